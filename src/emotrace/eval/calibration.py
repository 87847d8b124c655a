"""Calibration: is a face called "70% happy" happy 70% of the time? Expected calibration error and the one-number
fix for it, a softmax temperature fitted on held-out data (Guo et al. 2017)."""

from __future__ import annotations

import numpy as np


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE: the confidence-weighted gap between confidence and accuracy, over equal-width confidence bins."""
    conf = probs.max(1)
    correct = probs.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.mean() * abs(conf[inside].mean() - correct[inside].mean())
    return float(ece)


def softmax_t(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits / temperature
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of `labels` (golden-section search on log T;
    NLL is unimodal in it)."""
    def nll(log_t: float) -> float:
        p = softmax_t(logits, float(np.exp(log_t)))
        return float(-np.log(p[np.arange(len(labels)), labels].clip(1e-12)).mean())

    lo, hi = np.log(0.2), np.log(5.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(b)
    return float(np.exp((lo + hi) / 2))


def calibration_summary(logits: np.ndarray, labels: np.ndarray) -> dict[str, float | str]:
    """A temperature fitted on the even rows, and ECE before and after it on the odd rows (not used to fit) and on
    all rows. What the model card and `emotrace evaluate` report; the runtime divides logits by the temperature."""
    even, odd = np.arange(len(labels)) % 2 == 0, np.arange(len(labels)) % 2 == 1
    t = fit_temperature(logits[even], labels[even])
    return {"calibration_temperature": t,
            "ece_raw_odd_rows": expected_calibration_error(softmax_t(logits[odd], 1.0), labels[odd]),
            "ece_calibrated_odd_rows": expected_calibration_error(softmax_t(logits[odd], t), labels[odd]),
            "ece_raw": expected_calibration_error(softmax_t(logits, 1.0), labels),
            "ece_calibrated": expected_calibration_error(softmax_t(logits, t), labels)}
