"""Classification metrics that emotion papers report: accuracy (WAR), per-class recall, UAR, macro-F1, confusion."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted; entries are counts."""
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> dict[str, object]:
    """Accuracy (= WAR), UAR (mean per-class recall over classes present), macro-F1 and the confusion matrix."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    support = cm.sum(1)
    tp = np.diag(cm).astype(float)
    recall = np.divide(tp, support, out=np.zeros(num_classes), where=support > 0)
    predicted = cm.sum(0)
    precision = np.divide(tp, predicted, out=np.zeros(num_classes), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(num_classes), where=denom > 0)
    present = support > 0
    return {
        "n": int(support.sum()),
        "accuracy": float(tp.sum() / max(1, support.sum())),
        "uar": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class_recall": recall.tolist(),
        "confusion": cm.tolist(),
    }
