"""The signals drawer (issue 26, item 3): a pose gauge and the top blendshapes beside a face that has signals,
carried over the frames between readings, and not one pixel changed for a face without them."""

from __future__ import annotations

import numpy as np

from emotrace.faces.signal_names import BLENDSHAPES, N_LANDMARKS
from emotrace.labels import EMOTIONS
from emotrace.results import FrameResult
from emotrace.sinks.draw import draw_result
from emotrace.sinks.draw_signals import SignalHold, top_blendshapes
from emotrace.types import Detections, Frame, Signals

JAW = BLENDSHAPES.index("jawOpen")


def _result(statuses: list[str] | None, index: int = 0, jaw: float = 0.6) -> FrameResult:
    """A grey 640x360 frame with one face per status (None: signals off)."""
    n = len(statuses) if statuses is not None else 1
    boxes = np.array([[60 + 250 * i, 60, 200 + 250 * i, 220] for i in range(n)], np.float32)
    faces = Detections(boxes=boxes, scores=np.ones(n, np.float32), keypoints=np.zeros((n, 5, 2), np.float32),
                       track_id=np.arange(1, n + 1))
    p = np.full((n, len(EMOTIONS)), 0.05, np.float32)
    p[:, 3] = 0.7
    faces.temporal_probs = faces.frame_probs = p
    if statuses is not None:
        sig = Signals.empty(n, len(BLENDSHAPES), N_LANDMARKS)
        for i, status in enumerate(statuses):
            sig.status[i] = status
            if status == "measured":
                sig.blendshapes[i] = 0.01
                sig.blendshapes[i, JAW] = jaw
                sig.pose[i] = (20.0, -10.0, 5.0)
        faces.signals = sig
    img = np.full((360, 640, 3), 128, np.uint8)
    return FrameResult(frame=Frame(index=index, timestamp=index / 30, image=img), faces=faces)


def test_top_blendshapes_leave_out_neutral():
    bs = np.zeros(len(BLENDSHAPES), np.float32)
    bs[0], bs[JAW], bs[BLENDSHAPES.index("eyeBlinkLeft")] = 0.9, 0.6, 0.3
    top = top_blendshapes(bs)
    assert [n for n, _ in top[:2]] == ["jawOpen", "eyeBlinkLeft"] and len(top) == 3
    assert abs(top[0][1] - 0.6) < 1e-6


def test_signals_are_drawn_below_the_box_only_where_measured():
    off = _result(None)
    plain = draw_result(off.frame.image, off, list(EMOTIONS))
    res = _result(["measured", "no_fit"])
    drawn = draw_result(res.frame.image, res, list(EMOTIONS))
    below = (slice(225, 360), slice(0, 640))
    changed = np.abs(drawn.astype(int) - plain.astype(int)).sum(axis=2) > 0
    assert changed[below][:, 50:260].sum() > 200  # the first face's gauge and text
    assert not changed[below][:, 300:].any()  # the face the landmarker could not read: nothing


def test_nothing_changes_without_signals():
    off = _result(None)
    plain = draw_result(off.frame.image, off, list(EMOTIONS))
    for res in (_result(["skipped"]), _result(["too_small"])):
        assert np.array_equal(draw_result(res.frame.image, res, list(EMOTIONS)), plain)
        assert np.array_equal(draw_result(res.frame.image, res, list(EMOTIONS), signals={}), plain)
    assert np.array_equal(draw_result(off.frame.image, off, list(EMOTIONS), signals=SignalHold().update(off)), plain)


def test_hold_carries_the_last_reading_over_skipped_frames():
    hold = SignalHold()
    first = hold.update(_result(["measured"], 0, jaw=0.6))
    assert abs(float(first[1][0][JAW]) - 0.6) < 1e-6
    kept = hold.update(_result(["skipped"], 1))
    assert 1 in kept and abs(float(kept[1][0][JAW]) - 0.6) < 1e-6
    skipped = _result(["skipped"], 1)
    assert np.array_equal(draw_result(skipped.frame.image, skipped, list(EMOTIONS), signals=kept),
                          draw_result(skipped.frame.image, _result(["measured"]), list(EMOTIONS)))
    assert hold.update(_result(["no_fit"], 2)) == {}  # unreadable: the old values are not shown as current
    assert hold.update(_result(["skipped"], 3)) == {}
    hold.update(_result(["measured"], 4))
    hold.update(_result([], 5))  # the track left the frame: forgotten
    assert hold.update(_result(["skipped"], 6)) == {}
