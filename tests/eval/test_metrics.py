"""Metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from emotrace.eval.metrics import (
    classification_metrics,
    cross_dataset,
    label_map,
    per_class_recall,
    regression_metrics,
    uar,
    war,
)

Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 2])
Y_PRED = np.array([0, 0, 0, 1, 1, 2, 2])


def test_classification_by_hand():
    # class 0: 3/4 recall, 3/3 precision; class 1: 1/2, 1/2; class 2: 1/1, 1/2
    m = classification_metrics(Y_TRUE, Y_PRED, 3)
    assert m["accuracy"] == m["war"] == pytest.approx(5 / 7)
    assert m["per_class_recall"] == pytest.approx([0.75, 0.5, 1.0])
    assert m["uar"] == pytest.approx((0.75 + 0.5 + 1.0) / 3)
    f1 = [2 * 1 * 0.75 / 1.75, 0.5, 2 * 0.5 * 1 / 1.5]
    assert m["per_class_f1"] == pytest.approx(f1)
    assert m["macro_f1"] == pytest.approx(sum(f1) / 3)
    assert m["confusion"] == [[3, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert m["support"] == [4, 2, 1] and m["n"] == 7


def test_standalone_functions_agree():
    assert war(Y_TRUE, Y_PRED) == pytest.approx(5 / 7)
    assert per_class_recall(Y_TRUE, Y_PRED, 4).tolist() == pytest.approx([0.75, 0.5, 1.0, 0.0])
    assert uar(Y_TRUE, Y_PRED, 4) == pytest.approx(0.75)  # class 3 absent: not averaged


def test_regression_by_hand():
    target = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 1.0], [np.nan, 5.0]])
    pred = np.array([[2.0, 0.0], [3.0, 1.0], [4.0, 1.0], [0.0, 0.0]])
    m = regression_metrics(pred, target)
    assert m["n"] == 3  # the NaN row is dropped
    # valence: pred = target + 1 -> CCC 4/7 (see test_losses), RMSE 1, r = 1
    assert m["valence"]["ccc"] == pytest.approx(4 / 7)
    assert m["valence"]["rmse"] == pytest.approx(1.0)
    assert m["valence"]["pearson"] == pytest.approx(1.0)
    # arousal: t = [0, 0, 1], p = [0, 1, 1]; means 1/3, 2/3; cov = 1/9; var 2/9 each; gap 1/9
    assert m["arousal"]["ccc"] == pytest.approx(2 * (1 / 9) / (4 / 9 + 1 / 9))
    assert m["arousal"]["rmse"] == pytest.approx(np.sqrt(1 / 3))
    assert m["arousal"]["pearson"] == pytest.approx(0.5)
    assert m["mean_ccc"] == pytest.approx((4 / 7 + 0.4) / 2)


def test_label_map_uses_canonical_names():
    ravdess = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    seed1 = ["angry", "disgust", "fear", "happy", "neutral", "sad"]
    assert label_map(ravdess, seed1).tolist() == [4, -1, 3, 5, 0, 2, 1, -1]


def test_cross_dataset_drops_classes_the_model_lacks():
    data = ["neutral", "calm", "happy", "surprised"]
    model = ["happy", "neutral", "angry"]
    y = np.array([0, 1, 2, 3, 2, 0])  # calm and surprised samples (2) are dropped
    hard = np.array([1, 1, 0, 0, 2, 0])  # model indices; 'angry' is not in the data
    r = cross_dataset(y, hard, data, model)
    assert r["classes"] == ["happy", "neutral", "other"]
    assert r["n"] == 4 and r["n_dropped"] == 2 and r["dropped_classes"] == ["calm", "surprised"]
    assert r["model_classes_absent_from_data"] == ["angry"]
    # kept: neutral->neutral ok, happy->happy ok, happy->angry wrong, neutral->happy wrong
    assert r["accuracy"] == pytest.approx(0.5)
    assert r["confusion"] == [[1, 0, 1], [1, 1, 0], [0, 0, 0]]
    # with scores the argmax runs over shared classes: the 'angry' pick (sample 4) falls back to its second
    # choice, happy, which is right; sample 5 still says happy for neutral
    scores = np.eye(3)[hard] + 0.1 * np.eye(3)[[0, 1, 0, 0, 0, 1]]
    r2 = cross_dataset(y, scores, data, model)
    assert r2["classes"] == ["happy", "neutral"]
    assert r2["accuracy"] == pytest.approx(0.75) and r2["confusion"] == [[2, 0], [1, 1]]
