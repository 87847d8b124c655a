"""The detection schedule: stretches only while detections confirm the tracker, and falls back at once."""

from __future__ import annotations

import numpy as np

from emotrace.faces.schedule import DetectionSchedule

IMAGE = np.full((90, 160, 3), 120, np.uint8)


def _frames_between_detections(s: DetectionSchedule, image: np.ndarray = IMAGE, n: int = 20) -> int:
    """Frames until the schedule asks for the detector again (0: at once)."""
    for k in range(n):
        if s.due(image, tracking=True):
            return k
    return n


def test_every_frame_while_nothing_is_tracked_and_with_max_every_one():
    s = DetectionSchedule(max_every=8)
    assert all(s.due(IMAGE, tracking=False) for _ in range(5))
    one = DetectionSchedule(max_every=1)
    one.detected(IMAGE, 0.95)
    assert all(one.due(IMAGE, tracking=True) for _ in range(5))


def test_confirmed_predictions_stretch_the_interval_up_to_max_every():
    s = DetectionSchedule(max_every=8)
    gaps = []
    for _ in range(6):
        s.detected(IMAGE, 0.95)
        gaps.append(_frames_between_detections(s))
    assert gaps == [1, 3, 7, 7, 7, 7]  # intervals 2, 4, 8, 8, ...: the frames carried between two detections


def test_a_detection_that_does_not_confirm_the_tracker_detects_on_the_next_frame():
    s = DetectionSchedule(max_every=8)
    for _ in range(3):
        s.detected(IMAGE, 0.95)
    assert _frames_between_detections(s) == 7
    s.detected(IMAGE, 0.5)  # the faces moved unlike the prediction, or one arrived or went missing (0)
    assert _frames_between_detections(s) == 0


def test_a_changed_picture_calls_the_detector_before_the_interval_ends():
    s = DetectionSchedule(max_every=8)
    for _ in range(3):
        s.detected(IMAGE, 0.95)
    assert s.due(IMAGE, tracking=True) is False
    changed = IMAGE.copy()
    changed[:, 80:] = 250  # half the picture changes: someone walks in
    assert s.due(changed, tracking=True) is True


def test_a_young_track_is_detected_at_least_every_second_frame():
    """The people stage picks a track's best frames from its first second by the detector's landmarks."""
    s = DetectionSchedule(max_every=8, young_s=1.0)
    gaps = []
    for age in (0.0, 0.1, 0.3, 0.9, 1.2, 1.5):
        s.detected(IMAGE, 0.95, youngest_s=age)
        gaps.append(_frames_between_detections(s))
    assert gaps == [1, 1, 1, 1, 3, 7]
