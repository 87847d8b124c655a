"""Label decoding with a transition prior (an HMM over the seven labels), online and with a fixed look-ahead.

Why: a model's per-frame probabilities treat every frame as news; emotions persist for seconds. An HMM whose
hidden state is the label, staying put with probability exp(-dt * switch_rate) (so the prior is per second, not per
frame), turns those probabilities into a filtered (online, causal) or smoothed (fixed-lag, forward-backward)
posterior. The emission is the model's probability raised to `sharpness` (below 1: consecutive frames are not
independent evidence).

`ForwardFilter` holds one belief per track. `FixedLagSmoother` keeps only the last `lag` frames per track, so memory
stays bounded on hour-long video; a frame's smoothed output is final once `lag` later frames of its track arrived
(or the track ended).
"""

from __future__ import annotations

import math

import numpy as np


def transition(dt: float, switch_rate: float, classes: int) -> np.ndarray:
    """(C, C) label transition over `dt` seconds: stay with exp(-dt * rate), else any other label alike."""
    stay = math.exp(-max(dt, 0.0) * switch_rate)
    move = (1.0 - stay) / (classes - 1)
    out = np.full((classes, classes), move, np.float64)
    np.fill_diagonal(out, stay)
    return out


def emission(probs: np.ndarray, sharpness: float) -> np.ndarray:
    e = np.power(np.clip(probs.astype(np.float64), 1e-6, 1.0), sharpness)
    return e / e.sum(-1, keepdims=True)


def forward_step(belief: np.ndarray | None, probs: np.ndarray, dt: float, switch_rate: float,
                 sharpness: float, reset_s: float) -> np.ndarray:
    """The filtered label posterior after one observation (a fresh start when `belief` is None or dt > reset_s)."""
    e = emission(probs, sharpness)
    if belief is None or dt > reset_s:
        return e
    post = (belief @ transition(dt, switch_rate, len(probs))) * e
    return post / post.sum()


def filter_sequence(t: np.ndarray, probs: np.ndarray, switch_rate: float = 1.0, sharpness: float = 0.5,
                    reset_s: float = 2.0) -> np.ndarray:
    """Online decoding of one track: (T, C) probabilities at times `t` -> (T, C) filtered posteriors."""
    out = np.empty(probs.shape, np.float64)
    belief = None
    for k in range(len(t)):
        dt = float(t[k] - t[k - 1]) if k else 0.0
        belief = forward_step(belief, probs[k], dt, switch_rate, sharpness, reset_s)
        out[k] = belief
    return out.astype(np.float32)


def smooth_window(alphas: np.ndarray, emis: np.ndarray, dts: np.ndarray, switch_rate: float) -> np.ndarray:
    """Forward-backward posterior of the first frame of a window: alphas/emissions (L, C) of the window's frames,
    dts (L,) the intervals before each frame. The backward message starts flat after the last frame."""
    beta = np.ones(alphas.shape[1])
    for k in range(len(alphas) - 1, 0, -1):
        beta = transition(float(dts[k]), switch_rate, alphas.shape[1]) @ (emis[k] * beta)
        beta /= beta.sum()
    post = alphas[0] * beta
    return (post / post.sum()).astype(np.float32)


def smooth_sequence(t: np.ndarray, probs: np.ndarray, lag: int, switch_rate: float = 1.0, sharpness: float = 0.5,
                    reset_s: float = 2.0) -> np.ndarray:
    """Fixed-lag smoothing of one track, as `FixedLagSmoother` gives it frame by frame (lag 0: the filter)."""
    alphas = filter_sequence(t, probs, switch_rate, sharpness, reset_s).astype(np.float64)
    emis = emission(probs, sharpness)
    dts = np.diff(t, prepend=t[:1]) if len(t) else np.zeros(0)
    out = np.empty(probs.shape, np.float32)
    for k in range(len(t)):
        end = min(len(t), k + lag + 1)
        gaps = np.flatnonzero(dts[k + 1:end] > reset_s)
        if len(gaps):
            end = k + 1 + int(gaps[0])  # a reset cuts the window: nothing after it says anything about frame k
        out[k] = smooth_window(alphas[k:end], emis[k:end], dts[k:end], switch_rate)
    return out
