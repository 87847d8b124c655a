"""Figures and the Markdown/HTML report are written and carry what they promise."""

from __future__ import annotations

import base64
import csv

import numpy as np

from emotrace.eval.metrics import classification_metrics
from emotrace.eval.plots import plot_confusion, plot_curves, read_metrics_csv, write_confusion_csv
from emotrace.eval.report import flatten_metrics, write_report
from emotrace.provenance import git_commit

PNG = b"\x89PNG\r\n\x1a\n"


def _metrics_csv(path):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", "train_loss", "val_loss", "val_accuracy", "lr"])
        for e in range(4):
            w.writerow([e, 1.0 / (e + 1), 1.2 / (e + 1), 0.5 + 0.1 * e, 1e-3])
    return path


def test_confusion_png_and_csv(tmp_path):
    cm = np.array([[3, 1], [0, 2]])
    png = plot_confusion(cm, ["happy", "sad"], tmp_path / "cm.png")
    assert png.read_bytes()[:8] == PNG
    rows = list(csv.reader(open(write_confusion_csv(cm, ["happy", "sad"], tmp_path / "cm.csv"))))
    assert rows == [["true\\pred", "happy", "sad"], ["happy", "3", "1"], ["sad", "0", "2"]]


def test_curves_png_from_metrics_csv(tmp_path):
    path = _metrics_csv(tmp_path / "metrics.csv")
    cols = read_metrics_csv(path)
    assert cols["val_accuracy"] == [0.5, 0.6, 0.7, 0.8] and cols["epoch"] == [0, 1, 2, 3]
    assert plot_curves(path, tmp_path / "curves.png").read_bytes()[:8] == PNG


def test_report_has_command_commit_config_metrics_and_figures(tmp_path):
    figs_dir = tmp_path / "figs"
    figs_dir.mkdir()
    m = classification_metrics(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 2)
    cm_png = plot_confusion(m["confusion"], ["happy", "sad"], figs_dir / "confusion.png")
    curves = plot_curves(_metrics_csv(figs_dir / "metrics.csv"), figs_dir / "curves.png")
    cfg = {"arch": "seed4-cnn", "arch_kwargs": {"head": "va"}, "lr": 0.01}
    md, html = write_report(tmp_path / "report", {"test": m}, [cm_png, curves], command="emotrace evaluate x",
                            config=cfg)
    text = md.read_text()
    commit = git_commit()
    assert "emotrace evaluate x" in text and commit in text
    assert "| test.accuracy | 0.7500 |" in text and "| test.uar | 0.7500 |" in text
    assert "arch: seed4-cnn" in text and "head: va" in text
    assert "![confusion](confusion.png)" in text and (md.parent / "confusion.png").is_file()
    assert (md.parent / "curves.png").is_file()
    page = html.read_text()
    assert "emotrace evaluate x" in page and commit in page and "arch: seed4-cnn" in page
    embedded = base64.b64encode(cm_png.read_bytes()).decode()
    assert page.count("data:image/png;base64,") == 2 and embedded in page


def test_flatten_metrics_keeps_scalars_only():
    flat = flatten_metrics({"a": {"acc": 0.5, "confusion": [[1]], "va": {"ccc": 0.2}}, "n": 3, "ok": True})
    assert flat == {"a.acc": 0.5, "a.va.ccc": 0.2, "n": 3}
