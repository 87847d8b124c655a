"""Metrics that emotion papers report. Classes: accuracy (= WAR, weighted average recall), per-class recall, UAR,
macro-F1, confusion. Valence/arousal: CCC, RMSE, Pearson per dimension. `cross_dataset` scores a model on a
dataset whose label set differs (seed 1: trained on CREMA-D, tested on RAVDESS without calm and surprised)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emotrace.labels import canonical


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted; entries are counts."""
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def per_class_recall(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Recall of each class (0 where a class has no samples; see `classification_metrics` for which count)."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    support = cm.sum(1)
    return np.divide(np.diag(cm).astype(float), support, out=np.zeros(num_classes), where=support > 0)


def war(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Weighted average recall: recall weighted by class support, which is plain accuracy."""
    y_true = np.asarray(y_true)
    return float((y_true == np.asarray(y_pred)).mean()) if len(y_true) else 0.0


def uar(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> float:
    """Unweighted average recall over the classes present in y_true (robust to class imbalance)."""
    present = np.bincount(np.asarray(y_true), minlength=num_classes) > 0
    recall = per_class_recall(y_true, y_pred, num_classes)
    return float(recall[present].mean()) if present.any() else 0.0


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
    accuracy = float(tp.sum() / max(1, support.sum()))
    return {
        "n": int(support.sum()),
        "accuracy": accuracy,
        "war": accuracy,
        "uar": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class_recall": recall.tolist(),
        "per_class_f1": f1.tolist(),
        "support": support.tolist(),
        "confusion": cm.tolist(),
    }


def ccc_np(pred: np.ndarray, target: np.ndarray) -> float:
    """Lin's concordance correlation coefficient of two 1-D arrays (population moments, float64)."""
    x, y = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    cov = ((x - x.mean()) * (y - y.mean())).mean()
    denom = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    return float(2 * cov / denom) if denom > 0 else 0.0


def pearson(pred: np.ndarray, target: np.ndarray) -> float:
    """Pearson correlation (0 when either side is constant)."""
    x, y = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    sx, sy = x.std(), y.std()
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy)) if sx > 0 and sy > 0 else 0.0


def regression_metrics(pred: np.ndarray, target: np.ndarray,
                       names: Sequence[str] = ("valence", "arousal")) -> dict[str, object]:
    """Per dimension CCC, RMSE and Pearson r for (N, D) predictions, plus their means; NaN target rows dropped."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    pred, target = pred.reshape(len(pred), -1), target.reshape(len(target), -1)
    keep = ~np.isnan(target).any(1)
    pred, target = pred[keep], target[keep]
    per = {}
    for d, name in enumerate(names[:pred.shape[1]]):
        p, t = pred[:, d], target[:, d]
        per[name] = {"ccc": ccc_np(p, t), "rmse": float(np.sqrt(((p - t) ** 2).mean())), "pearson": pearson(p, t)}
    res: dict[str, object] = {"n": int(keep.sum()), **per}
    for key in ("ccc", "rmse", "pearson"):
        res[f"mean_{key}"] = float(np.mean([v[key] for v in per.values()])) if per else 0.0
    return res


def label_map(source: Sequence[str], target: Sequence[str]) -> np.ndarray:
    """For each class of `source`, its index in `target` after canonical naming (labels.canonical), or -1 where
    `target` lacks it (or the name is not one of the seven emotions, e.g. RAVDESS 'calm')."""

    def canon(name: str) -> str | None:
        try:
            return canonical(name)
        except KeyError:
            return None

    index = {canon(n): i for i, n in enumerate(target) if canon(n) is not None}
    return np.array([index.get(canon(n), -1) if canon(n) is not None else -1 for n in source], np.int64)


def cross_dataset(y_true: np.ndarray, pred: np.ndarray, data_classes: Sequence[str],
                  model_classes: Sequence[str]) -> dict[str, object]:
    """Score a model on a dataset with another label set, over the classes both share.

    `y_true` indexes `data_classes`; `pred` is either class indices into `model_classes` (N,) or scores (N, C).
    Samples whose true class the model lacks are dropped (as seed 1 dropped RAVDESS calm/surprised). With scores,
    the argmax runs over the shared classes only; with hard predictions, a prediction of a class the data lacks
    is counted wrong (column `other` of the confusion matrix). Metrics use the shared classes in model order.
    """
    y_true, pred = np.asarray(y_true), np.asarray(pred)
    m2d = label_map(model_classes, data_classes)  # model index -> data index or -1
    shared_model = np.flatnonzero(m2d >= 0)
    shared_names = [str(model_classes[i]) for i in shared_model]
    d2s = np.full(len(data_classes), -1, np.int64)  # data index -> shared position
    d2s[m2d[shared_model]] = np.arange(len(shared_model))
    true_s = d2s[y_true]
    keep = true_s >= 0
    if pred.ndim == 2:
        pred_s = pred[:, shared_model].argmax(1)
        other = False
    else:
        m2s = np.full(len(model_classes), len(shared_model), np.int64)
        m2s[shared_model] = np.arange(len(shared_model))
        pred_s = m2s[pred]
        other = bool((pred_s[keep] == len(shared_model)).any())
    k = len(shared_model) + int(other)
    res = classification_metrics(true_s[keep], pred_s[keep], k)
    res["classes"] = shared_names + (["other"] if other else [])
    res["n_dropped"] = int((~keep).sum())
    res["dropped_classes"] = sorted({str(data_classes[i]) for i in np.unique(y_true[~keep])})
    res["model_classes_absent_from_data"] = [str(model_classes[i]) for i in np.flatnonzero(m2d < 0)]
    return res
