"""Carried faces follow the face's appearance, not only the tracker's constant-velocity guess."""

from __future__ import annotations

import numpy as np

from emotrace.faces.carry import FaceCarrier
from emotrace.types import Detections


def _scene(dx: int, dy: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    image = np.full((200, 300, 3), 90, np.uint8)
    face = rng.integers(0, 255, (60, 50, 3), dtype=np.uint8)
    image[50 + dy:110 + dy, 100 + dx:150 + dx] = face
    return image


def _faces(box: list[float]) -> Detections:
    b = np.array([box], np.float32)
    return Detections(boxes=b, scores=np.ones(1, np.float32), keypoints=np.array([[[b[0, 0] + 10, b[0, 1] + 20]]],
                      np.float32), track_id=np.array([7], np.int64))


def test_a_carried_box_lands_where_the_face_moved():
    carrier = FaceCarrier()
    carrier.remember(_scene(0, 0), _faces([100, 50, 150, 110]))
    guess = _faces([104, 50, 154, 110])  # the tracker's guess: 4 px right; the face moved 7 right, 3 down
    out = carrier.carry(_scene(7, 3), guess)
    np.testing.assert_allclose(out.boxes[0], [107, 53, 157, 113], atol=0.5)
    np.testing.assert_allclose(out.keypoints[0, 0], [117, 73], atol=0.5)  # the keypoints move with it


def test_a_face_that_cannot_be_found_keeps_the_trackers_guess():
    carrier = FaceCarrier()
    carrier.remember(_scene(0, 0), _faces([100, 50, 150, 110]))
    blank = np.full((200, 300, 3), 90, np.uint8)  # the face is gone (occluded, turned away)
    guess = _faces([104, 50, 154, 110])
    np.testing.assert_allclose(carrier.carry(blank, guess).boxes[0], [104, 50, 154, 110])


def test_only_tracks_seen_at_the_last_detection_are_carried():
    carrier = FaceCarrier()
    carrier.remember(_scene(0, 0), _faces([100, 50, 150, 110]))
    other = _faces([104, 50, 154, 110])
    other.track_id = np.array([8], np.int64)
    np.testing.assert_allclose(carrier.carry(_scene(7, 3), other).boxes[0], [104, 50, 154, 110])
