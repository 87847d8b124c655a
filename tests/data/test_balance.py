"""Seed 4's valence/arousal down-sampling (including empty histogram bins) and category balancing."""

from __future__ import annotations

import numpy as np
import pytest

from emotrace.data.balance import balanced_sample_weights, class_weights, va_downsample, va_histogram


def _two_bins(big: int = 400, small: int = 40) -> np.ndarray:
    return np.r_[np.tile([[0.51, 0.51]], (big, 1)), np.tile([[-0.51, -0.51]], (small, 1))]


def test_histogram_edges_and_empty_bins():
    counts, flat = va_histogram(np.array([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0], [2.0, -3.0]]), bins=40)
    assert counts.shape == (40, 40) and counts.sum() == 4
    assert counts[0, 0] == 1 and counts[39, 39] == 1 and counts[39, 0] == 1  # out-of-range clipped to the edge
    assert (counts == 0).sum() == 1600 - 4


@pytest.mark.parametrize("target, expected_big", [("max", 400), ("mean", 220), ("average", 310)])
def test_downsample_targets(target, expected_big):
    va = _two_bins()
    keep = va_downsample(va, target=target, rng=np.random.default_rng(1))
    assert keep[400:].all()  # the rare bin is below every target: kept whole
    # binomial(400, p): within 4 standard deviations of the expected count
    p = expected_big / 400
    assert abs(keep[:400].sum() - expected_big) <= 4 * np.sqrt(400 * p * (1 - p)) + 1e-9


def test_downsample_drops_zero_and_invalid_rows():
    va = np.r_[_two_bins(10, 10), [[0.0, 0.0]] * 5, [[np.nan, 0.2]]]
    keep = va_downsample(va, target="max")
    assert keep[:20].all() and not keep[20:].any()
    assert not va_downsample(np.zeros((6, 2))).any()  # nothing usable: nothing kept, no division by zero
    with pytest.raises(ValueError):
        va_downsample(va, target="median")


def test_class_weights_and_sampling():
    labels = np.array([0, 0, 0, 1, -1, 3])
    w = class_weights(labels, 4)
    assert w.tolist() == pytest.approx([5 / (3 * 3), 5 / 3, 0.0, 5 / 3])
    sw = balanced_sample_weights(labels, 4)
    assert sw[4] == 0
    totals = [sw[labels == c].sum() for c in (0, 1, 3)]
    assert totals == pytest.approx([totals[0]] * 3)
