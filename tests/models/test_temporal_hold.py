"""The temporal input held through faces the signals flag (profile, looking down, eyes closed)."""

import numpy as np

from emotrace.models.temporal.hold import UnclearHold
from emotrace.types import Signals


def _signals(status: list[str], quality: list[str]) -> Signals:
    s = Signals.empty(len(status), 52, 478)
    s.status[:] = status
    s.quality[:] = quality
    return s


def _frame(k: float, n: int = 1) -> tuple[np.ndarray, np.ndarray]:
    return np.full((n, 7), k, np.float32), np.full((n, 4), k, np.float32)


def test_a_flagged_face_is_fed_the_tracks_last_clear_input_until_a_clear_reading():
    hold = UnclearHold()
    ids = np.array([5])
    p, e, held = hold.inputs(ids, 0.0, _signals(["measured"], [""]), *_frame(1))
    assert p[0, 0] == 1 and not held[0]
    p, e, held = hold.inputs(ids, 0.0, _signals(["measured"], ["eyes_closed"]), *_frame(2))
    assert p[0, 0] == 1 and e[0, 0] == 1 and held[0]  # the blink: last clear input
    p, e, held = hold.inputs(ids, 0.0, _signals(["skipped"], [""]), *_frame(3))
    assert p[0, 0] == 1 and held[0]  # between readings the last reading's flag stands
    p, e, held = hold.inputs(ids, 0.0, _signals(["measured"], [""]), *_frame(4))
    assert p[0, 0] == 4 and not held[0]


def test_the_callers_arrays_are_not_changed_and_other_tracks_are_apart():
    hold = UnclearHold()
    hold.inputs(np.array([1, 2]), 0.0, _signals(["measured", "measured"], ["", ""]), *_frame(1, 2))
    probs, emb = _frame(2, 2)
    p, _, held = hold.inputs(np.array([1, 2]), 0.0, _signals(["measured", "measured"], ["profile", ""]), probs, emb)
    assert held.tolist() == [True, False] and p[:, 0].tolist() == [1, 2] and probs[0, 0] == 2


def test_no_clear_frame_yet_no_signals_or_a_dropped_track_feed_the_face_as_it_is():
    hold = UnclearHold()
    p, _, held = hold.inputs(np.array([1]), 0.0, _signals(["measured"], ["profile"]), *_frame(3))
    assert p[0, 0] == 3 and not held[0]
    p, _, held = hold.inputs(np.array([1]), 0.0, None, *_frame(4))
    assert p[0, 0] == 4 and not held.any()
    hold.inputs(np.array([2]), 0.0, _signals(["measured"], [""]), *_frame(5))
    hold.drop([2])
    p, _, held = hold.inputs(np.array([2]), 0.0, _signals(["measured"], ["profile"]), *_frame(6))
    assert p[0, 0] == 6 and not held[0]


def test_a_hold_lasts_at_most_max_hold_s_then_the_face_is_fed_as_read():
    """A flag that stays (a speaker reading notes looks down for seconds) is a state, not a glitch."""
    hold = UnclearHold(max_hold_s=1.0)
    ids = np.array([1])
    hold.inputs(ids, 0.0, _signals(["measured"], [""]), *_frame(1))
    assert hold.inputs(ids, 0.5, _signals(["measured"], ["looking_down"]), *_frame(2))[2][0]
    assert hold.inputs(ids, 1.0, _signals(["measured"], ["looking_down"]), *_frame(3))[2][0]
    p, _, held = hold.inputs(ids, 1.5, _signals(["measured"], ["looking_down"]), *_frame(4))
    assert p[0, 0] == 4 and not held[0]
