"""Evaluation figures as PNG files: the confusion matrix (with a CSV twin) and training curves from metrics.csv.

matplotlib runs on the Agg backend (no display needed); figures are closed after saving so long runs do not leak.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _plt():  # noqa: ANN202 - matplotlib.pyplot, imported lazily so `import emotrace` stays light
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_confusion_csv(confusion: np.ndarray | Sequence[Sequence[int]], classes: Sequence[str],
                        path: str | Path) -> Path:
    """Counts with a header row of predicted classes and a first column of true classes."""
    path = Path(path)
    cm = np.asarray(confusion)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["true\\pred", *classes])
        for name, row in zip(classes, cm, strict=True):
            w.writerow([name, *row.tolist()])
    return path


def plot_confusion(confusion: np.ndarray | Sequence[Sequence[int]], classes: Sequence[str], path: str | Path,
                   normalize: bool = True, title: str = "Confusion matrix") -> Path:
    """Heat map of the confusion matrix; with `normalize`, rows are recall fractions and cells show both."""
    plt = _plt()
    cm = np.asarray(confusion, float)
    rows = cm.sum(1, keepdims=True)
    shown = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0) if normalize else cm
    k = len(classes)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * k, 0.8 + 0.7 * k), dpi=100)
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(1.0, shown.max()))
    ax.set_xticks(range(k), classes, rotation=45, ha="right")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(k):
        for j in range(k):
            text = f"{shown[i, j]:.2f}\n({int(cm[i, j])})" if normalize else f"{int(cm[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if shown[i, j] > 0.6 * (im.norm.vmax or 1) else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def read_metrics_csv(path: str | Path) -> dict[str, list[float]]:
    """Columns of a metrics CSV as float lists (non-numeric cells become NaN)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols: dict[str, list[float]] = {k: [] for k in (rows[0] if rows else {})}
    for row in rows:
        for k in cols:
            try:
                cols[k].append(float(row[k]))
            except (TypeError, ValueError):
                cols[k].append(math.nan)
    return cols


def plot_curves(metrics_csv: str | Path, path: str | Path, x: str = "epoch") -> Path:
    """Loss curves (columns ending in 'loss') on the left, every other score (accuracy, uar, f1, ccc...) on the
    right, against `x` (the row number when that column is absent). Columns like lr or throughput are skipped."""
    plt = _plt()
    cols = read_metrics_csv(metrics_csv)
    xs = cols.pop(x, None) or list(range(len(next(iter(cols.values()), []))))
    losses = [k for k in cols if k.endswith("loss")]
    scores = [k for k in cols if k not in losses and any(s in k for s in ("acc", "uar", "f1", "ccc", "war"))]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for ax, keys, label in ((axes[0], losses, "loss"), (axes[1], scores, "score")):
        for k in keys:
            ax.plot(xs, cols[k], marker="o", markersize=3, label=k)
        ax.set_xlabel(x)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if keys:
            ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
