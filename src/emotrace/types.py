"""The data that flows through the pipeline: Frame, then Detections (one dataclass for all faces of a frame)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Frame:
    """One decoded picture. `timestamp` comes from the container (seconds), so variable frame rate stays true."""

    index: int
    timestamp: float
    image: np.ndarray  # HxWx3 BGR uint8, rotation already applied
    source: str = ""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image."""
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass
class Signals:
    """The face signals of a frame's faces (`faces/signals.py`), parallel arrays: NaN where a face was not
    measured, and `status` says why (`measured`, `skipped` on frames between a track's readings, `too_small`,
    `no_fit` where the landmarker found no face in the crop)."""

    blendshapes: np.ndarray  # (N, 52) scores in [0, 1]
    pose: np.ndarray  # (N, 3) yaw, pitch, roll in degrees
    landmarks: np.ndarray  # (N, 478, 3) x, y in frame pixels, z in the same scale (relative depth)
    status: np.ndarray  # (N,) str
    quality: np.ndarray  # (N,) str: profile | looking_down | eyes_closed, joined by |; empty when fine

    @classmethod
    def empty(cls, n: int, n_blendshapes: int, n_landmarks: int) -> Signals:
        return cls(np.full((n, n_blendshapes), np.nan, np.float32), np.full((n, 3), np.nan, np.float32),
                   np.full((n, n_landmarks, 3), np.nan, np.float32), np.full(n, "", dtype=object),
                   np.full(n, "", dtype=object))

    def take(self, sel: np.ndarray) -> Signals:
        return Signals(self.blendshapes[sel], self.pose[sel], self.landmarks[sel], self.status[sel],
                       self.quality[sel])


@dataclass
class Detections:
    """All faces of one frame, as parallel arrays (in the manner of supervision's Detections).

    Each stage adds to it rather than inventing a per-face type: the detector fills boxes, scores and keypoints;
    the tracker fills `track_id`; the people stage `person_id` and `person_basis`; the frame model `frame_probs` and
    `embedding`; the temporal stage `temporal_probs` and, where a model has that head, `valence_arousal`; the signal
    reader `signals`. `data` holds stage-private extras.
    """

    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))  # x1, y1, x2, y2 in pixels
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    keypoints: np.ndarray | None = None  # (N, K, 2) pixels; K=6 for BlazeFace (right eye, left eye, nose, mouth, ears)
    track_id: np.ndarray | None = None  # (N,) int64
    frame_probs: np.ndarray | None = None  # (N, C) the frame model's probabilities, C = the analyzer's classes
    embedding: np.ndarray | None = None  # (N, D) the frame model's embedding (what the temporal model reads)
    temporal_probs: np.ndarray | None = None  # (N, C) after the temporal stage (the frame model's on photos)
    valence_arousal: np.ndarray | None = None  # (N, 2) in [-1, 1], where a model has the head
    crop: np.ndarray | None = None  # (N,) bool: a photo taken as a face crop (faces.photo), not found by the detector
    signals: Signals | None = None  # blendshapes, head pose, landmarks (faces/signals.py), when asked for
    person_id: np.ndarray | None = None  # (N,) int64: the person a face's track was linked to (faces/people.py)
    person_basis: np.ndarray | None = None  # (N,) str: what the person id rests on (face, too_small, unclear, photo)
    data: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @classmethod
    def empty(cls) -> Detections:
        return cls()

    def __getitem__(self, index: np.ndarray | slice | list[int]) -> Detections:
        """Select faces (boolean mask or indices); every per-face field, and per-face arrays in `data`, sliced."""
        sel = np.arange(len(self))[index]
        data = {k: (v[sel] if isinstance(v, np.ndarray) and v.shape[:1] == (len(self),) else v)
                for k, v in self.data.items()}

        def pick(v: np.ndarray | None) -> np.ndarray | None:
            return None if v is None else v[sel]

        return Detections(boxes=self.boxes[sel], scores=self.scores[sel], keypoints=pick(self.keypoints),
                          track_id=pick(self.track_id), frame_probs=pick(self.frame_probs),
                          embedding=pick(self.embedding), temporal_probs=pick(self.temporal_probs),
                          valence_arousal=pick(self.valence_arousal), crop=pick(self.crop),
                          signals=None if self.signals is None else self.signals.take(sel),
                          person_id=pick(self.person_id), person_basis=pick(self.person_basis), data=data)
