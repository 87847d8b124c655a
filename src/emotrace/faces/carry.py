"""Carries tracked faces across the frames where the detector does not run. The tracker's constant-velocity
prediction drifts by a few pixels a frame, and the frame model's answer moves with the crop (a one-pixel shift of
every box changes 1.7% of the labels on WolfgangLanger_Pexels.mp4), so each carried box is placed where the face's
appearance at its last detection matches best (grey-level template matching, translation only)."""

from __future__ import annotations

import cv2
import numpy as np

from emotrace.types import Detections

SEARCH = 0.25  # search window margin, as a fraction of the face's size
COARSE_PX = 24  # the patch's longer side in the coarse search (then refined at full resolution nearby)
MIN_SCORE = 0.6  # normalised correlation below this keeps the tracker's prediction (occluded, turned away)


class FaceCarrier:
    """Remembers each track's face patch at its last detection and finds it again in later frames."""

    def __init__(self) -> None:
        # track id -> (patch, its corner, its detected box, the patch at the coarse scale, that scale)
        self._patches: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]] = {}

    def reset(self) -> None:
        self._patches.clear()

    def remember(self, image: np.ndarray, faces: Detections) -> None:
        """After a detection: keep the detected faces' patches (and forget tracks no longer detected)."""
        self._patches = {}
        if faces.track_id is None:
            return
        for box, tid in zip(faces.boxes, faces.track_id, strict=True):
            x1, y1, x2, y2 = _clip(box, image.shape)
            if x2 - x1 >= 8 and y2 - y1 >= 8:
                patch = _grey(image[y1:y2, x1:x2])
                scale = min(1.0, COARSE_PX / max(patch.shape))
                small = cv2.resize(patch, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                self._patches[int(tid)] = (patch, np.array([x1, y1], np.float32), np.asarray(box, np.float32).copy(),
                                           small, scale)

    def carry(self, image: np.ndarray, faces: Detections) -> Detections:
        """Move each carried box (and its keypoints) by the offset where the remembered patch matches best: found
        on a coarse copy of the search window, then refined at full resolution within a few pixels of it."""
        if not len(faces) or faces.track_id is None or not self._patches:
            return faces
        h, w = image.shape[:2]
        for i, tid in enumerate(faces.track_id):
            kept = self._patches.get(int(tid))
            if kept is None:
                continue
            patch, corner, detected, small, scale = kept
            ph, pw = patch.shape
            m = int(round(SEARCH * max(ph, pw)))
            moved = faces.boxes[i, :2] - detected[:2]  # the tracker's predicted motion since the detection
            px, py = corner + moved  # where the patch would be by that prediction
            sx1, sy1 = int(max(0, round(px) - m)), int(max(0, round(py) - m))
            sx2, sy2 = int(min(w, round(px) + pw + m)), int(min(h, round(py) + ph + m))
            if sx2 - sx1 < pw or sy2 - sy1 < ph:
                continue
            found = _match(_grey(image[sy1:sy2, sx1:sx2]), patch, small, scale)
            if found is None:
                continue
            shift = np.array([sx1 + found[0], sy1 + found[1]], np.float32) - corner  # motion since the detection
            faces.boxes[i] = detected + np.tile(shift, 2)
            if faces.keypoints is not None:
                faces.keypoints[i] += shift - moved
        return faces


def _match(region: np.ndarray, patch: np.ndarray, small: np.ndarray, scale: float) -> tuple[int, int] | None:
    """The patch's top-left in `region` (None below `MIN_SCORE`): coarse to fine when the patch is large."""
    ph, pw = patch.shape
    x0 = y0 = 0
    if scale < 1.0:
        coarse = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if coarse.shape[0] >= small.shape[0] and coarse.shape[1] >= small.shape[1]:
            _, _, _, (cx, cy) = cv2.minMaxLoc(cv2.matchTemplate(coarse, small, cv2.TM_CCOEFF_NORMED))
            r = int(np.ceil(1.0 / scale)) + 1  # the coarse grid's step, and one pixel more
            x0, y0 = max(0, int(round(cx / scale)) - r), max(0, int(round(cy / scale)) - r)
            x1 = min(region.shape[1], int(round(cx / scale)) + pw + r)
            y1 = min(region.shape[0], int(round(cy / scale)) + ph + r)
            if x1 - x0 >= pw and y1 - y0 >= ph:
                # refined with the patch's middle (its inner 60%: a third of the work, and no background)
                my, mx = int(ph * 0.2), int(pw * 0.2)
                inner = patch[my:ph - my, mx:pw - mx]
                _, best, _, (bx, by) = cv2.minMaxLoc(cv2.matchTemplate(region[y0 + my:y1 - my, x0 + mx:x1 - mx],
                                                                      inner, cv2.TM_CCOEFF_NORMED))
                return None if best < MIN_SCORE else (x0 + bx, y0 + by)
    _, best, _, (bx, by) = cv2.minMaxLoc(cv2.matchTemplate(region, patch, cv2.TM_CCOEFF_NORMED))
    return None if best < MIN_SCORE else (bx, by)


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def _clip(box: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    return max(0, x1), max(0, y1), min(w, x2), min(h, y2)
