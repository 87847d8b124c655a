"""Carries tracked faces across the frames where the detector does not run. The tracker's constant-velocity
prediction drifts by a few pixels a frame, and the frame model's answer moves with the crop (a one-pixel shift of
every box changes 1.7% of the labels on WolfgangLanger_Pexels.mp4), so each carried box is placed where the face's
appearance at its last detection matches best (grey-level template matching, translation only)."""

from __future__ import annotations

import cv2
import numpy as np

from emotrace.types import Detections

SEARCH = 0.25  # search window margin, as a fraction of the face's size
MIN_SCORE = 0.6  # normalised correlation below this keeps the tracker's prediction (occluded, turned away)


class FaceCarrier:
    """Remembers each track's face patch at its last detection and finds it again in later frames."""

    def __init__(self) -> None:
        self._patches: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # id -> (patch, its corner, box)

    def reset(self) -> None:
        self._patches.clear()

    def remember(self, image: np.ndarray, faces: Detections) -> None:
        """After a detection: keep the detected faces' patches (and forget tracks no longer detected)."""
        grey = _grey(image)
        self._patches = {}
        if faces.track_id is None:
            return
        for box, tid in zip(faces.boxes, faces.track_id, strict=True):
            x1, y1, x2, y2 = _clip(box, grey.shape)
            if x2 - x1 >= 8 and y2 - y1 >= 8:
                self._patches[int(tid)] = (grey[y1:y2, x1:x2].copy(), np.array([x1, y1], np.float32),
                                           np.asarray(box, np.float32).copy())

    def carry(self, image: np.ndarray, faces: Detections) -> Detections:
        """Move each carried box (and its keypoints) by the offset where the remembered patch matches best."""
        if not len(faces) or faces.track_id is None or not self._patches:
            return faces
        grey = _grey(image)
        h, w = grey.shape
        for i, tid in enumerate(faces.track_id):
            kept = self._patches.get(int(tid))
            if kept is None:
                continue
            patch, corner, detected = kept
            ph, pw = patch.shape
            m = int(round(SEARCH * max(ph, pw)))
            moved = faces.boxes[i, :2] - detected[:2]  # the tracker's predicted motion since the detection
            px, py = corner + moved  # where the patch would be by that prediction
            sx1, sy1 = int(max(0, round(px) - m)), int(max(0, round(py) - m))
            sx2, sy2 = int(min(w, round(px) + pw + m)), int(min(h, round(py) + ph + m))
            if sx2 - sx1 < pw or sy2 - sy1 < ph:
                continue
            score = cv2.matchTemplate(grey[sy1:sy2, sx1:sx2], patch, cv2.TM_CCOEFF_NORMED)
            _, best, _, (bx, by) = cv2.minMaxLoc(score)
            if best < MIN_SCORE:
                continue
            shift = np.array([sx1 + bx, sy1 + by], np.float32) - corner  # the face's motion since the detection
            faces.boxes[i] = detected + np.tile(shift, 2)
            if faces.keypoints is not None:
                faces.keypoints[i] += shift - moved
        return faces


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def _clip(box: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    return max(0, x1), max(0, y1), min(w, x2), min(h, y2)
