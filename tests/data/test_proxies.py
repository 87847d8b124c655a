"""Valence/arousal proxies come from the cited circumplex coordinates and say they are proxies."""

from __future__ import annotations

import numpy as np
import pytest

from emotrace.data.proxies import va_from_distribution, va_from_labels
from emotrace.labels import CIRCUMPLEX_VA, EMOTIONS


def test_one_hot_gives_the_coordinates_and_mixtures_average():
    eye = np.eye(len(EMOTIONS))
    assert va_from_distribution(eye) == pytest.approx(np.array([CIRCUMPLEX_VA[e] for e in EMOTIONS]))
    mix = np.zeros(7)
    mix[EMOTIONS.index("happy")] = 3
    mix[EMOTIONS.index("sad")] = 1
    expected = (3 * np.array(CIRCUMPLEX_VA["happy"]) + np.array(CIRCUMPLEX_VA["sad"])) / 4
    assert va_from_distribution(mix[None])[0] == pytest.approx(expected)
    assert va_from_distribution(np.zeros((1, 7)))[0].tolist() == [0.0, 0.0]


def test_from_labels_marks_unlabelled_nan():
    out = va_from_labels(np.array([3, -1]))
    assert out[0] == pytest.approx(CIRCUMPLEX_VA["happy"]) and np.isnan(out[1]).all()
