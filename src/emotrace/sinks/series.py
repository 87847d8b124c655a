"""A track's per-frame values kept for charts drawn at the end, in growing numpy arrays.

The timeline and report sinks need every frame of a track when the video ends. Kept as Python lists of floats and
small arrays that cost about 150 bytes a frame per sink (a 30-minute video: 43,000 frames, 13 MB that only grows);
here it is 24 bytes (time float64, probabilities float16, top label int16), and the arrays handed back are the ones
the lists gave (same dtypes and values), so the charts do not change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from emotrace.results import FaceRecord


class TrackSeries:
    """Times, probabilities (float16, as the sinks kept them) and a label per frame of one track."""

    def __init__(self, width: int, capacity: int = 256) -> None:
        self.n = 0
        self._t = np.empty(capacity, np.float64)
        self._p = np.empty((capacity, width), np.float16)
        self._label = np.empty(capacity, np.int16)

    def _grow(self) -> None:
        cap = 2 * len(self._t)
        self._t = np.resize(self._t, cap)
        self._p = np.resize(self._p, (cap, self._p.shape[1]))
        self._label = np.resize(self._label, cap)

    def append(self, t: float, probs: np.ndarray, label: int = 0) -> None:
        if self.n == len(self._t):
            self._grow()
        self._t[self.n] = t
        self._p[self.n] = probs  # rounded to float16 as `probs.astype(np.float16)` rounds
        self._label[self.n] = label
        self.n += 1

    def __len__(self) -> int:
        return self.n

    @property
    def t(self) -> np.ndarray:
        """(n,) float64 timestamps."""
        return self._t[:self.n]

    @property
    def probs(self) -> np.ndarray:
        """(n, width) float32, from the float16 values kept."""
        return self._p[:self.n].astype(np.float32)

    @property
    def labels(self) -> np.ndarray:
        """(n,) int64."""
        return self._label[:self.n].astype(np.int64)


def add_frame(series: dict[int, TrackSeries], width: int, t: float, faces: list[FaceRecord]) -> None:
    """One frame's faces into their tracks' series (a new track gets one): each face's temporal probabilities and
    the frame model's top label. One call a frame, whatever the number of faces."""
    for face in faces:
        track = series.get(face.track_id)
        if track is None:
            track = series[face.track_id] = TrackSeries(width)
        track.append(t, face.temporal_probs, face.frame_top)
