"""report.html charts blendshapes and head pose per track only when the run has face signals (issue 26)."""

from __future__ import annotations

import json
import re

import numpy as np

from emotrace.faces.signal_names import BLENDSHAPES, N_LANDMARKS
from emotrace.labels import EMOTIONS
from emotrace.results import FrameResult
from emotrace.sinks import ReportSink, RunMeta
from emotrace.sinks.report_signals import REPORT_BLENDSHAPES
from emotrace.types import Detections, Frame, Signals

IMG = np.zeros((8, 8, 3), np.uint8)
JAW = BLENDSHAPES.index("jawOpen")


def _frame(i: int, every: int) -> FrameResult:
    """Track 1 measured every `every` frames (jaw opening over time), track 2 never (too small)."""
    p = np.full((2, 7), 0.02, np.float32)
    p[:, 3] = 0.88
    d = Detections(boxes=np.array([[1, 1, 6, 6], [1, 1, 3, 3]], np.float32), scores=np.ones(2, np.float32),
                   track_id=np.array([1, 2]), frame_probs=p, temporal_probs=p)
    sig = Signals.empty(2, len(BLENDSHAPES), N_LANDMARKS)
    sig.status[:] = ["measured" if i % every == 0 else "skipped", "too_small"]
    if i % every == 0:
        sig.blendshapes[0] = 0.0
        sig.blendshapes[0, JAW] = i / 300
        sig.pose[0] = (10.0, -5.0, 2.0)
    d.signals = sig
    return FrameResult(Frame(i, i / 30, IMG, source="clip.mp4"), d)


def _page(tmp_path, signals: int) -> str:
    sink = ReportSink(tmp_path / "report.html")
    sink.open(RunMeta("clip.mp4", list(EMOTIONS), 30.0, analyzer={"temporal_stage": "ema", "signals": signals},
                      provenance={"command": "emotrace analyze clip.mp4"}))
    for i in range(300):
        sink.write(_frame(i, 5))
    sink.close()
    return (tmp_path / "report.html").read_text()


def test_report_charts_signals_per_track(tmp_path):
    page = _page(tmp_path, 5)
    assert "<canvas class='sig' id='b1'>" in page and "<canvas class='sig' id='p1'>" in page
    assert "id='b2'" not in page and "No face signals were measured on this track." in page
    assert "http://" not in page and "https://" not in page  # still self-contained
    data = json.loads(re.search(r'<script type="application/json" id="signals">(.*?)</script>', page,
                                re.S).group(1))
    assert data["names"] == list(REPORT_BLENDSHAPES) and data["pose"] == ["yaw", "pitch", "roll"]
    (tr,) = data["tracks"]
    assert tr["id"] == 1 and tr["measured"] == 60
    rows = [r for r in tr["bs"] if r is not None]
    jaw = REPORT_BLENDSHAPES.index("jawOpen")
    assert len(rows) >= 50 and rows[-1][jaw] > rows[0][jaw]  # the jaw opens over the clip
    assert [r for r in tr["pose"] if r is not None][0] == [10.0, -5.0, 2.0]
    emotion = json.loads(re.search(r'id="data">(.*?)</script>', page, re.S).group(1))["tracks"][0]
    assert (tr["t0"], tr["w"]) == (emotion["t0"], emotion["w"])  # the same windows as the emotion chart


def test_report_without_signals_has_no_signal_chart(tmp_path):
    page = _page(tmp_path, 0)
    assert 'id="signals"' not in page and "class='sig'" not in page and "Face signals" not in page
