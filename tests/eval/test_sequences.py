"""Sequence scores on hand-made label tracks."""

import numpy as np
import pytest

from emotrace.eval.sequences import change_latency, label_changes, sequence_metrics


def test_label_changes_counts_switches():
    assert label_changes(np.array([1, 1, 2, 2, 1, 1])) == 2
    assert label_changes(np.array([3])) == 0


def test_change_latency_first_hit_and_settling():
    labels = np.array([0] * 5 + [1] * 10)
    pred = np.array([0] * 5 + [0, 0, 1, 0, 1, 1, 1, 1, 1, 1])
    assert change_latency(pred, labels, [5]) == [(2, 4)]
    assert change_latency(np.zeros(15, int), labels, [5]) == [(None, None)]


def test_sequence_metrics_scores_both_models_on_the_same_frames():
    labels = np.array([[0] * 5 + [1] * 5, [2] * 8 + [-1, -1]])
    frame = np.eye(3)[np.array([[0, 1, 0, 1, 0, 1, 1, 1, 1, 1], [2] * 10])]
    temporal = np.eye(3)[np.array([[0] * 6 + [1] * 4, [2] * 10])]
    m = sequence_metrics(frame, temporal, labels, [np.array([5]), np.array([], int)], fps=10.0)
    assert m["truth"]["frames"] == 18
    assert m["frame"]["frame_accuracy"] == pytest.approx(16 / 18)
    assert m["temporal"]["frame_accuracy"] == pytest.approx(17 / 18)
    assert m["frame"]["label_changes_per_s"] == pytest.approx(5 / 1.8)
    assert m["temporal"]["label_changes_per_s"] == pytest.approx(1 / 1.8)
    assert m["temporal"]["median_frames_to_follow"] == 1.0 and m["frame"]["median_frames_to_follow"] == 0.0
