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


def regression_metrics(true: np.ndarray, pred: np.ndarray, names: tuple[str, ...] = ("valence", "arousal"),
                       ) -> dict[str, float]:
    """CCC, RMSE and Pearson r per dimension and their means (`ccc`, `rmse`, `pearson`), in float64."""
    t = np.asarray(true, np.float64)
    p = np.asarray(pred, np.float64)
    out: dict[str, float] = {}
    cccs, rmses, rs = [], [], []
    for j, name in enumerate(names):
        a, b = p[:, j], t[:, j]
        cov = ((a - a.mean()) * (b - b.mean())).mean()
        denom = a.var() + b.var() + (a.mean() - b.mean()) ** 2
        c = float(2 * cov / denom) if denom > 0 else 0.0
        r = float(cov / np.sqrt(a.var() * b.var())) if a.var() > 0 and b.var() > 0 else 0.0
        e = float(np.sqrt(((a - b) ** 2).mean()))
        out[f"ccc_{name}"], out[f"pearson_{name}"], out[f"rmse_{name}"] = c, r, e
        cccs.append(c)
        rs.append(r)
        rmses.append(e)
    out["ccc"], out["pearson"], out["rmse"] = float(np.mean(cccs)), float(np.mean(rs)), float(np.mean(rmses))
    return out
