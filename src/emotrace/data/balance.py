"""Balancing: seed 4's valence/arousal down-sampling, and class weights / balanced sampling for categories.

Seed 4 (Aff-Wild2): drop frames whose valence and arousal are both 0; put the rest on a 40x40 histogram over
[-1, 1]^2; keep each frame with probability min(1, k_target / k_bin), where k_bin is the count of its bin and
k_target is the largest bin's count (subset 1), the mean count of the occupied bins (subset 2) or the average of
the two (subset 3). Empty bins hold no frame and do not enter the mean.
"""

from __future__ import annotations

import numpy as np

TARGETS = ("max", "mean", "average")


def va_histogram(va: np.ndarray, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """(bins, bins) counts and each row's flat bin index, over [-1, 1] per axis (values clipped to the range)."""
    v = np.clip(np.asarray(va, np.float64), -1.0, 1.0)
    idx = np.minimum(((v + 1.0) / 2.0 * bins).astype(np.int64), bins - 1)
    flat = idx[:, 0] * bins + idx[:, 1]
    counts = np.bincount(flat, minlength=bins * bins).reshape(bins, bins)
    return counts, flat


def va_downsample(va: np.ndarray, target: str = "average", bins: int = 40,
                  rng: np.random.Generator | None = None) -> np.ndarray:
    """Boolean keep-mask over rows of `va` (N, 2). NaN rows (invalid) and (0, 0) rows are never kept."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose from {', '.join(TARGETS)}")
    va = np.asarray(va, np.float64)
    keep = np.zeros(len(va), bool)
    usable = ~np.isnan(va).any(1) & ~((va[:, 0] == 0) & (va[:, 1] == 0))
    if not usable.any():
        return keep
    counts, flat = va_histogram(va[usable], bins)
    occupied = counts[counts > 0]
    k_max, k_mean = float(occupied.max()), float(occupied.mean())
    k_target = {"max": k_max, "mean": k_mean, "average": (k_max + k_mean) / 2}[target]
    k_bin = counts.reshape(-1)[flat].astype(np.float64)
    p = np.minimum(1.0, k_target / k_bin)
    rng = rng or np.random.default_rng(0)
    keep[np.flatnonzero(usable)] = rng.random(len(p)) < p
    return keep


def class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """n / (C * n_c) per class (classes absent from `labels` get 0); labels < 0 are ignored."""
    labels = np.asarray(labels)
    labels = labels[labels >= 0]
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(num_classes)
    w[present] = len(labels) / (present.sum() * counts[present])
    return w


def balanced_sample_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-sample weights so every present class is drawn equally often (for a weighted random sampler)."""
    labels = np.asarray(labels)
    w = class_weights(labels, num_classes)
    out = np.zeros(len(labels))
    ok = labels >= 0
    out[ok] = w[labels[ok]]
    return out
