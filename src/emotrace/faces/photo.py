"""Faces in a photo that stands alone, including photos that already are a face crop.

A detector trained on scenes often misses a face that fills the whole image (a dataset crop, a cropped profile
picture): on SFEW's 860 aligned movie crops BlazeFace finds a face in about 3 of 4. Such a photo would get no
prediction at all. So when the detector finds nothing, the photo is enlarged and padded with its own border (the
face now sits inside a scene-like frame) and detected again with a lower threshold, which is safe only because
the face, if any, fills the image; this finds 832 of the 860. What is still not found is classified as a whole when
the photo is small (a crop, not a scene) or the caller says it is a crop: the whole image is mapped onto the FER
template, i.e. resized. Faces found either way are marked `crop`, so outputs say the detector alone did not find
them.

Training crops of photo datasets go through this same function (`data/photo_crops.py`), so the model sees the
crops the pipeline makes.
"""

from __future__ import annotations

import cv2
import numpy as np

from emotrace.faces.align import FER_TEMPLATE_48
from emotrace.faces.detectors import FaceDetector, create_detector
from emotrace.types import Detections

CROP_MAX_SIDE = 256  # a photo no larger than this with no face found is taken as a face crop
PAD_MIN_SIDE = 192  # enlarge before padding so the face is large enough for BlazeFace
RETRY_MIN_SCORE = 0.3  # the padded retry's threshold: the face, if any, fills the photo


def large_enough(dets: Detections, min_face_px: int) -> Detections:
    """The faces whose box is at least `min_face_px` on its short side (smaller ones cannot be classified)."""
    if not len(dets):
        return dets
    wh = dets.boxes[:, 2:] - dets.boxes[:, :2]
    return dets[np.flatnonzero(wh.min(1) >= min_face_px)]


def whole_image_face(image: np.ndarray) -> Detections:
    """The whole photo as one face, keypoints where the FER template puts them (alignment becomes a resize)."""
    h, w = image.shape[:2]
    frac = FER_TEMPLATE_48 / 48.0
    kp = np.zeros((1, 6, 2), np.float32)
    kp[0, :4] = frac * [w, h]
    kp[0, 4:] = [[0.0, 0.45 * h], [float(w), 0.45 * h]]  # ears at the edges (unused by alignment)
    box = np.array([[0, 0, w, h]], np.float32)
    return Detections(boxes=box, scores=np.zeros(1, np.float32), keypoints=kp)


class PhotoFaceFinder:
    """Detector first; for photos where it finds nothing, the padded retry and the whole-image fallback."""

    def __init__(self, detector: FaceDetector, min_face_px: int = 12, detector_name: str = "auto") -> None:
        self.detector = detector
        self.min_face_px = min_face_px
        self._detector_name = detector_name
        self._retry: FaceDetector | None = None

    def _retry_detector(self) -> FaceDetector:
        if self._retry is None:
            name = self._detector_name if self._detector_name in ("auto", "blazeface") else "auto"
            self._retry = create_detector(name, min_score=RETRY_MIN_SCORE)
        return self._retry


    def padded_face(self, image: np.ndarray) -> Detections:
        """The biggest face found in the enlarged, border-padded photo, mapped back to the photo's pixels."""
        h, w = image.shape[:2]
        scale = max(1.0, PAD_MIN_SIDE / max(h, w))
        big = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC) \
            if scale > 1 else image
        pad = max(big.shape[:2]) // 2
        big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        dets = self._retry_detector().detect(big)
        if not len(dets):
            return dets
        area = (dets.boxes[:, 2] - dets.boxes[:, 0]) * (dets.boxes[:, 3] - dets.boxes[:, 1])
        best = dets[[int(np.argmax(area * dets.scores))]]
        best.boxes = ((best.boxes - pad) / scale).astype(np.float32)
        if best.keypoints is not None:
            best.keypoints = ((best.keypoints - pad) / scale).astype(np.float32)
        # The face must fill the photo: a small face found only in the padding's echo is no crop.
        bw, bh = best.boxes[0, 2] - best.boxes[0, 0], best.boxes[0, 3] - best.boxes[0, 1]
        if bw * bh < 0.15 * w * h:
            return Detections.empty()
        return best

    def find(self, image: np.ndarray, assume_crop: bool = False) -> Detections:
        """Faces of one photo, `crop` set per face (True: found only as a crop, by the padded retry or whole).
        `assume_crop`: the caller says photos are face crops, so one where no face is found is classified whole
        whatever its size (a face the detector finds is still used as found)."""
        dets = large_enough(self.detector.detect(image), self.min_face_px)
        if len(dets):
            dets.crop = np.zeros(len(dets), bool)
            return dets
        dets = self.padded_face(image)
        if not len(dets) and (assume_crop or max(image.shape[:2]) <= CROP_MAX_SIDE):
            dets = whole_image_face(image)
        dets.crop = np.ones(len(dets), bool)
        return dets

    def close(self) -> None:
        if self._retry is not None:
            self._retry.close()
