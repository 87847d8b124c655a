"""Valence/arousal *proxies* from categorical labels, through fixed circumplex coordinates per emotion.

The coordinates are `emotrace.labels.CIRCUMPLEX_VA` (Russell 1980, as tabulated by Scherer 2005). A proxy is the
probability-weighted mean of the coordinates; it is not an annotation, and every sample and report carrying one
says so (`Sample.va_proxy`, `va_proxy: true` in reports).
"""

from __future__ import annotations

import numpy as np

from emotrace.labels import CIRCUMPLEX_VA, EMOTIONS

CIRCUMPLEX_MATRIX = np.array([CIRCUMPLEX_VA[e] for e in EMOTIONS], np.float32)  # (7, 2) in EMOTIONS order


def va_from_distribution(probs: np.ndarray) -> np.ndarray:
    """(N, 7) distributions over EMOTIONS -> (N, 2) valence/arousal proxies; rows summing to 0 give (0, 0)."""
    p = np.asarray(probs, np.float32)
    s = p.sum(-1, keepdims=True)
    p = np.divide(p, s, out=np.zeros_like(p), where=s > 0)
    return p @ CIRCUMPLEX_MATRIX


def va_from_labels(labels: np.ndarray) -> np.ndarray:
    """Hard labels (index into EMOTIONS, -1 = none) -> proxies; unlabelled rows are NaN."""
    labels = np.asarray(labels)
    out = np.full((len(labels), 2), np.nan, np.float32)
    ok = (labels >= 0) & (labels < len(EMOTIONS))
    out[ok] = CIRCUMPLEX_MATRIX[labels[ok]]
    return out
