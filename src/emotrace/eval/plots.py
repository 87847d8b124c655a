"""Figures every report carries: the confusion matrix (PNG + CSV) and training curves from metrics.csv."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    tmp = path.with_name(f".{path.stem}.part.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write_confusion_csv(cm: np.ndarray, names: list[str], path: str | Path) -> Path:
    path = Path(path)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["true\\predicted", *names])
        for name, row in zip(names, np.asarray(cm), strict=True):
            w.writerow([name, *map(int, row)])
    return path


def plot_confusion(cm: np.ndarray, names: list[str], path: str | Path) -> Path:
    """Row-normalised colours (recall per class), raw counts as text."""
    cm = np.asarray(cm)
    norm = cm / np.maximum(1, cm.sum(1, keepdims=True))
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(names), 0.8 + 0.6 * len(names)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if norm[i, j] > 0.5 else "black")
    return _save(fig, Path(path))


def plot_curves(metrics_csv: str | Path, path: str | Path) -> Path:
    """Loss (left) and every validation score (right) per epoch."""
    with open(metrics_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    a.plot(epochs, [float(r["train_loss"]) for r in rows], marker="o", label="train loss")
    a.set_xlabel("epoch")
    a.set_title("loss")
    a.legend()
    for key in ("valid_accuracy", "valid_uar", "valid_macro_f1", "valid_ccc"):
        if rows and key in rows[0] and rows[0][key] != "":
            b.plot(epochs, [float(r[key]) for r in rows], marker="o", label=key.replace("valid_", "valid "))
    b.set_xlabel("epoch")
    b.set_title("validation")
    b.legend()
    return _save(fig, Path(path))
