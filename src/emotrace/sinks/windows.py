"""A track's emotion over time, summarised in windows sized to its duration: a 30-minute track becomes a few
hundred windows (share of each emotion, dominant label) instead of 54,000 overlapping points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Windows:
    """Per window: its start and end (s), the mean temporal probability of each emotion (`shares`, rows sum to 1;
    NaN where the track was not seen), its dominant label index (-1 when empty) and the frames it holds."""

    start: np.ndarray
    end: np.ndarray
    shares: np.ndarray
    dominant: np.ndarray
    frames: np.ndarray

    @property
    def width_s(self) -> float:
        return float(self.end[0] - self.start[0]) if len(self.start) else 0.0


def window_size(duration_s: float, max_windows: int = 300, min_s: float = 0.0) -> float:
    """A round window length giving at most `max_windows` windows over `duration_s` (0.1 s .. 10 min steps)."""
    steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600]
    need = max(duration_s / max_windows, min_s)
    return next((s for s in steps if s >= need), float(np.ceil(need / 600) * 600))


def windows(t: np.ndarray, probs: np.ndarray, max_windows: int = 300, width: float | None = None) -> Windows:
    """Aggregate per-frame probabilities `probs` (N, K) at times `t` (N,) into windows (of `width` s where
    given, so another series of the same track can share a chart's windows)."""
    t = np.asarray(t, np.float64)
    probs = np.asarray(probs, np.float64)
    t0 = float(t.min()) if len(t) else 0.0
    dur = float(t.max() - t0) if len(t) else 0.0
    w = window_size(dur, max_windows) if width is None else width
    start0 = np.floor(t0 / w) * w
    idx = ((t - start0) / w).astype(np.int64)
    n = int(idx.max()) + 1 if len(t) else 0
    k = probs.shape[1] if probs.ndim == 2 else 0
    sums = np.zeros((n, k))
    np.add.at(sums, idx, probs)
    frames = np.bincount(idx, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = sums / frames[:, None]
    dominant = np.where(frames > 0, np.argmax(np.nan_to_num(shares, nan=-1.0), axis=1), -1)
    starts = start0 + w * np.arange(n)
    return Windows(starts, starts + w, shares, dominant, frames)
