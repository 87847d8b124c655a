"""A live session in-process: frames in, faces with track ids and emotions out, bad frames refused, the gate."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotrace.labels import EMOTIONS
from emotrace.types import Frame
from emotrace.web.live import AnalyzerPool, FrameError, LiveSession, SocketGate
from tests.helpers import astronaut_frames


@pytest.fixture(scope="module")
def pool():
    return AnalyzerPool({}, keep=1)


def test_session_tracks_one_face_and_resets(pool):
    an = pool.acquire()
    try:
        session = LiveSession(an, max_side=1920)
        msgs = [session.process(cv2.imencode(".jpg", f)[1].tobytes()) for f in astronaut_frames(8, (640, 480))]
        assert [m["seq"] for m in msgs] == list(range(1, 9))
        faces = [f for m in msgs for f in m["faces"]]
        assert len(faces) >= 7 and {f["track_id"] for f in faces} == {1}
        assert all(f["label"] in EMOTIONS and f["label"] == max(EMOTIONS, key=lambda c: f[f"temporal_{c}"])
                   for f in faces)
        assert msgs[0]["detected"] is True and msgs[0]["server_ms"] > 0
        png = cv2.imencode(".png", astronaut_frames(1, (320, 240))[0])[1].tobytes()
        session.reset()
        again = session.process(png)
        assert again["seq"] == 1 and (again["width"], again["height"]) == (320, 240)
        assert again["faces"] and again["faces"][0]["track_id"] == 1  # a reset starts the ids again
    finally:
        pool.release(an)


def test_bad_frames_raise_frame_error(pool):
    an = pool.acquire()
    try:
        session = LiveSession(an, max_side=500)
        with pytest.raises(FrameError, match="not a decodable"):
            session.process(b"\xff\xd8\xff garbage")
        with pytest.raises(FrameError, match="not a decodable"):
            session.process(b"")
        big = cv2.imencode(".jpg", np.zeros((600, 400, 3), np.uint8))[1].tobytes()
        with pytest.raises(FrameError, match="400x600; the limit is 500"):
            session.process(big)
    finally:
        pool.release(an)


def test_pool_reuses_analyzers(pool):
    a = pool.acquire()
    pool.release(a)
    assert pool.acquire() is a
    pool.release(a)


def test_gate_counts_sessions():
    gate = SocketGate(2)
    assert gate.try_enter() and gate.try_enter()
    assert not gate.try_enter()
    gate.leave()
    assert gate.try_enter()
    assert gate.open == 2


def test_live_faces_are_the_table_rows_face_fields(pool):
    """Same names and the same values, to the last digit, as the table outputs' face columns for that frame."""
    from emotrace.results import FRAME_FIELDS
    from emotrace.sinks import result_rows
    from emotrace.web.live import result_message

    an = pool.acquire()
    try:
        res = an.process_frame(Frame(index=0, timestamp=0.0, image=astronaut_frames(1, (640, 480))[0]))
        with_va = an.has_valence_arousal
        msg = result_message(res, an.classes, 1, 1.0, with_va)
        rows = [{k: v for k, v in r.items() if k not in FRAME_FIELDS} for r in result_rows(res, an.classes, with_va)]
        assert msg["faces"] and msg["faces"] == rows
        assert {"x1", "det_score", "label_prob", "temporal_happy", "frame_happy"} <= set(msg["faces"][0])
    finally:
        pool.release(an)


def test_pool_keeps_analyzers_per_signals_setting(pool):
    """A session's own face signals (the live page's choice) get an analyzer of that setting, kept warm for the
    next session that asks for it; the server's setting keeps its own."""
    mine = pool.acquire(1)
    assert mine.config.signals == 1 and mine.signals is not None
    pool.release(mine)
    again = pool.acquire(1)
    server = pool.acquire()
    try:
        assert again is mine and server is not mine and server.config.signals == 0 and server.signals is None
    finally:
        pool.release(again)
        pool.release(server)
