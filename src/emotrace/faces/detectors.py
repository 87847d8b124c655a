"""Face detectors behind one interface, created by name: `blazeface` (MediaPipe) and `haar` (OpenCV 4.x).

Both return `Detections` with pixel boxes, scores and six keypoints in BlazeFace's order (image-left eye,
image-right eye, nose tip, mouth centre, image-left ear, image-right ear); Haar, which finds no landmarks,
places them at the mean positions of a frontal face in its box, so alignment treats every detector alike.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from emotrace.errors import EmotraceError
from emotrace.faces.boxes import iou_matrix
from emotrace.faces.mediapipe_import import face_detection_module
from emotrace.native_log import MEDIAPIPE_QUIET_ENV, quiet_native_env
from emotrace.types import Detections

log = logging.getLogger("emotrace")

# Keypoint positions as fractions of a Haar frontal-face box: medians of BlazeFace keypoints inside matching Haar
# boxes (IoU >= 0.3) over 77 faces of ../shared/media (the images and every 10th video frame).
HAAR_KEYPOINTS = np.array([[0.31, 0.42], [0.68, 0.42], [0.50, 0.61], [0.50, 0.81], [0.13, 0.53], [0.88, 0.55]],
                          np.float32)


class FaceDetector:
    """Finds every face in a BGR image."""

    name = "base"

    def detect(self, image: np.ndarray) -> Detections:
        raise NotImplementedError

    def close(self) -> None:
        """Release native resources."""


class BlazeFaceDetector(FaceDetector):
    """MediaPipe BlazeFace; both of its models ship inside the mediapipe 0.10.21 wheel.

    `ranges="both"` (default) runs the short-range model (close faces: webcams, interviews, close-ups, where the
    full-range model often misses) and the full-range model (small and distant faces) and merges them by NMS.
    On ../shared/media the short-range model alone finds the face in 226 of 275 frames of short_hamilton_clip.mp4,
    the full-range one in 447 of 472 of WolfgangLanger_Pexels.mp4; together they find both.
    """

    name = "blazeface"

    def __init__(self, min_score: float = 0.5, ranges: str = "both", nms_iou: float = 0.3,
                 parallel: bool = True) -> None:
        quiet_native_env(only=MEDIAPIPE_QUIET_ENV)
        try:
            with _quiet_stderr():
                face_detection = face_detection_module()
        except Exception as exc:  # ImportError, or a protobuf mismatch raising AttributeError
            raise EmotraceError(
                f"BlazeFace needs mediapipe==0.10.21 ({type(exc).__name__}); use --detector haar") from None
        selections = {"short": [0], "full": [1], "both": [0, 1]}
        if ranges not in selections:
            raise EmotraceError(f"BlazeFace ranges must be short, full or both, not {ranges!r}")
        with _quiet_stderr():
            self._models = [face_detection.FaceDetection(model_selection=m, min_detection_confidence=min_score)
                            for m in selections[ranges]]
            # The first inference prints TFLite banners; run it now, silenced.
            blank = np.zeros((64, 64, 3), np.uint8)
            for m in self._models:
                m.process(blank)
        self.nms_iou = nms_iou
        self.parallel = parallel
        self._pool: Any = None
        self.min_score = min_score  # mediapipe's own threshold is not applied by every model; filter here too

    def _run(self, model: object, rgb: np.ndarray, w: int, h: int) -> Detections:
        dets = model.process(rgb).detections or []  # type: ignore[attr-defined]
        if not dets:
            return Detections.empty()
        boxes = np.zeros((len(dets), 4), np.float32)
        scores = np.zeros(len(dets), np.float32)
        kps = np.zeros((len(dets), 6, 2), np.float32)
        for i, d in enumerate(dets):
            b = d.location_data.relative_bounding_box
            boxes[i] = (b.xmin * w, b.ymin * h, (b.xmin + b.width) * w, (b.ymin + b.height) * h)
            scores[i] = d.score[0]
            kps[i] = [(p.x * w, p.y * h) for p in d.location_data.relative_keypoints]
        return Detections(boxes=boxes, scores=scores, keypoints=kps)

    def detect(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        if len(self._models) > 1 and self.parallel:
            # MediaPipe releases the GIL while a graph runs: the second model runs beside the first (each graph is
            # used by one thread at a time; the merge sees the parts in the same order).
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emotrace-blazeface")
            later = [self._pool.submit(self._run, m, rgb, w, h) for m in self._models[1:]]
            parts = [self._run(self._models[0], rgb, w, h)] + [f.result() for f in later]
        else:
            parts = [self._run(m, rgb, w, h) for m in self._models]
        dets = merge(parts, self.nms_iou)
        if not len(dets):
            return dets
        dets.boxes[:, [0, 2]] = dets.boxes[:, [0, 2]].clip(0, w)
        dets.boxes[:, [1, 3]] = dets.boxes[:, [1, 3]].clip(0, h)
        keep = (dets.boxes[:, 2] - dets.boxes[:, 0] > 2) & (dets.boxes[:, 3] - dets.boxes[:, 1] > 2)
        keep &= dets.scores >= self.min_score
        return dets[np.flatnonzero(keep)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for m in self._models:
            m.close()


def merge(parts: list[Detections], iou: float) -> Detections:
    """Concatenate detections and drop overlaps (IoU > `iou`), keeping the higher score."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Detections.empty()
    if len(parts) == 1:
        return parts[0]
    boxes = np.concatenate([p.boxes for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    kps = np.concatenate([p.keypoints for p in parts])  # type: ignore[misc]
    order = np.argsort(-scores)
    ious = iou_matrix(boxes, boxes)
    keep: list[int] = []
    for i in order:
        if all(ious[i, j] <= iou for j in keep):
            keep.append(int(i))
    return Detections(boxes=boxes[keep], scores=scores[keep], keypoints=kps[keep])


_QUIET = {"lock": threading.Lock(), "depth": 0, "saved": -1}


class _quiet_stderr:
    """Silence native libraries' stderr (glog/TFLite banners) for a moment; Python errors still propagate.

    fd 2 belongs to the whole process, so nested and concurrent uses (detectors built in several threads, as the
    web server does) share one redirection: the first in saves fd 2, the last out restores it.
    """

    def __enter__(self) -> None:
        import sys

        with _QUIET["lock"]:
            if _QUIET["depth"] == 0:
                sys.stderr.flush()
                _QUIET["saved"] = os.dup(2)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
            _QUIET["depth"] += 1

    def __exit__(self, *exc: object) -> None:
        with _QUIET["lock"]:
            _QUIET["depth"] -= 1
            if _QUIET["depth"] == 0:
                os.dup2(_QUIET["saved"], 2)
                os.close(_QUIET["saved"])


class HaarDetector(FaceDetector):
    """OpenCV's frontal-face Haar cascade, as the seeds use; always available with opencv-python-headless < 5."""

    name = "haar"

    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 30,
                 max_width: int = 640) -> None:
        data = getattr(cv2, "data", None)
        if data is None or not hasattr(cv2, "CascadeClassifier"):
            raise EmotraceError("this OpenCV has no Haar cascades; install opencv-python-headless>=4.9,<5")
        path = os.path.join(data.haarcascades, "haarcascade_frontalface_default.xml")
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise EmotraceError(f"Haar cascade failed to load: {path}")
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, min_neighbors, min_size
        self.max_width = max_width

    def detect(self, image: np.ndarray) -> Detections:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        scale = min(1.0, self.max_width / gray.shape[1])  # cascades are slow on large images; faces stay findable
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
        small = cv2.equalizeHist(small)
        rects, _, weights = self._cascade.detectMultiScale3(
            small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size), outputRejectLevels=True)
        if len(rects) == 0:
            return Detections.empty()
        rects = np.asarray(rects, np.float32) / scale
        boxes = np.stack([rects[:, 0], rects[:, 1], rects[:, 0] + rects[:, 2], rects[:, 1] + rects[:, 3]], 1)
        # The cascade's final-stage weight is an unbounded margin; squash it to (0, 1) so scores compare.
        scores = (1.0 / (1.0 + np.exp(-np.asarray(weights, np.float32).reshape(-1)))).astype(np.float32)
        wh = (boxes[:, 2:] - boxes[:, :2])[:, None, :]
        kps = boxes[:, None, :2] + HAAR_KEYPOINTS[None] * wh
        return Detections(boxes=boxes, scores=scores, keypoints=kps.astype(np.float32))


_DETECTORS: dict[str, Callable[..., FaceDetector]] = {"blazeface": BlazeFaceDetector, "haar": HaarDetector}


def available_detectors() -> list[str]:
    """Detector names that can be created on this machine."""
    names = ["haar"]
    try:
        face_detection_module()
        names.insert(0, "blazeface")
    except Exception:
        pass
    return names


def create_detector(name: str = "auto", **kwargs: object) -> FaceDetector:
    """`auto` picks BlazeFace where mediapipe imports, else Haar (and says so)."""
    if name == "auto":
        name = available_detectors()[0]
        if name == "haar":
            log.warning("mediapipe not importable: using the Haar cascade detector (less accurate)")
    if name not in _DETECTORS:
        raise EmotraceError(f"unknown detector {name!r} (choose from {', '.join(_DETECTORS)})")
    return _DETECTORS[name](**kwargs)
