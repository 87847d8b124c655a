"""Face signals in the web app (issue 26): the results API's per-track series for a job run with signals (none
without), the page's assets, and the live faces' signal fields."""

from __future__ import annotations

import time
import uuid

import cv2
import numpy as np
import pytest

from emotrace.faces.signal_names import BLENDSHAPES, N_LANDMARKS
from emotrace.labels import EMOTIONS
from emotrace.outputs import build_sinks
from emotrace.results import FrameResult
from emotrace.sinks import RunMeta
from emotrace.types import Detections, Frame, Signals
from emotrace.web.results import signal_columns, signal_series

IMG = np.zeros((8, 8, 3), np.uint8)
JAW = BLENDSHAPES.index("jawOpen")


def _frame(i: int) -> FrameResult:
    """One face, measured every third frame, its jaw opening over the clip."""
    p = np.full((1, 7), 0.02, np.float32)
    p[0, 3] = 0.88
    d = Detections(boxes=np.array([[1, 1, 6, 6]], np.float32), scores=np.ones(1, np.float32),
                   track_id=np.array([4]), frame_probs=p, temporal_probs=p)
    sig = Signals.empty(1, len(BLENDSHAPES), N_LANDMARKS)
    sig.status[0] = "measured" if i % 3 == 0 else "skipped"
    if i % 3 == 0:
        sig.blendshapes[0] = 0.0
        sig.blendshapes[0, JAW] = i / 90
        sig.pose[0] = (12.0, -4.0, 1.5)
    d.signals = sig
    return FrameResult(Frame(i, i / 30, IMG, source="clip.mp4"), d)


def _table(folder, signals: int):
    sinks = build_sinks(folder, ["parquet"])
    for s in sinks:
        s.open(RunMeta("clip.mp4", list(EMOTIONS), 30.0, analyzer={"temporal_stage": "ema", "signals": signals}))
    for i in range(90):
        for s in sinks:
            s.write(_frame(i))
    for s in sinks:
        s.close()
    return folder / "emotions.parquet"


def test_signal_series_per_track(tmp_path):
    table = _table(tmp_path, 3)
    assert signal_columns(table) == [n.lstrip("_") for n in BLENDSHAPES]
    data = signal_series(table, ["jawOpen", "eyeBlinkLeft"])
    assert data["names"] == ["jawOpen", "eyeBlinkLeft", "yaw", "pitch", "roll"]
    (tr,) = data["tracks"]
    assert tr["track_id"] == 4 and tr["window_s"] == 0.1
    assert 20 <= len(tr["t"]) <= 30 and tr["t"] == sorted(tr["t"])  # windows with a measured frame only
    assert tr["values"]["yaw"][0] == 12.0 and tr["values"]["roll"][-1] == 1.5
    jaw = tr["values"]["jawOpen"]
    assert jaw == sorted(jaw) and jaw[-1] > 0.9


def test_no_signal_columns_without_signals(tmp_path):
    assert signal_columns(_table(tmp_path, 0)) == []


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")  # in-process calls
def test_signals_route(tmp_path):
    from starlette.testclient import TestClient

    from emotrace.web.app import create_app
    from emotrace.web.settings import ServerSettings
    from emotrace.web.store import Job

    app = create_app(ServerSettings(data_dir=tmp_path / "data"))
    svc = app.state.services
    client = TestClient(app)  # no lifespan: no worker process is started
    ids = {}
    for signals in (3, 0):
        job_id = uuid.uuid4().hex
        out = svc.manager.job_dir(job_id) / "out"
        out.mkdir(parents=True)
        _table(out, signals)
        svc.store.add(Job(id=job_id, status="done", filename="clip.mp4", kind="video", media="MP4", input="x",
                          size=1, created=time.time(), outputs=["emotions.parquet"]), 8)
        ids[signals] = job_id
    try:
        base = f"/api/v1/jobs/{ids[3]}/signals"
        data = client.get(base).json()
        assert data["names"][:6] == ["mouthSmileLeft", "mouthSmileRight", "browDownLeft", "browDownRight",
                                     "jawOpen", "eyeBlinkLeft"] and data["names"][6:] == ["yaw", "pitch", "roll"]
        assert len(data["blendshapes"]) == 52 and data["tracks"][0]["track_id"] == 4
        chosen = client.get(base, params={"names": "jawOpen,noSuchShape,jawOpen"}).json()
        assert chosen["names"] == ["jawOpen", "yaw", "pitch", "roll"]  # unknown names left out, repeats once
        assert client.get(base, params={"names": "<script>"}).status_code == 422
        none = client.get(f"/api/v1/jobs/{ids[0]}/signals")
        assert none.status_code == 404 and "no face signals" in none.json()["detail"]
        page = client.get(f"/jobs/{ids[3]}").text
        assert "/static/signals.js" in page and 'id="blendshapes"' in page
        assert client.get("/static/signals.js").status_code == 200
    finally:
        svc.store.close()


def test_live_faces_carry_signals_with_signals_on():
    from emotrace.web.live import AnalyzerPool, LiveSession
    from tests.helpers import astronaut_frames

    pool = AnalyzerPool({"signals": 2}, keep=1)
    an = pool.acquire()
    try:
        session = LiveSession(an, max_side=1920)
        msgs = [session.process(cv2.imencode(".jpg", f)[1].tobytes()) for f in astronaut_frames(4, (640, 480))]
    finally:
        pool.release(an)
    faces = [f for m in msgs for f in m["faces"]]
    assert faces and {"signals", "signals_quality", "yaw", "pitch", "roll", "bs_jawOpen"} <= set(faces[0])
    measured = [f for f in faces if f["signals"] == "measured"]
    assert measured and all(isinstance(f["yaw"], float) and 0 <= f["bs_jawOpen"] <= 1 for f in measured)
    assert any(f["signals"] == "skipped" and f["yaw"] is None for f in faces)  # between readings: none
