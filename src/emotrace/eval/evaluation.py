"""What an evaluation gives, and the one writer of its evidence.

Every evaluation (a run's end, `emotrace evaluate`, `emotrace ship`) comes back as an `Evaluation` from its task's
`evaluate` (`train/tasks/`), and `write_evaluation` is the only code that writes `metrics.json`, the confusion
matrix, the training curves and the report, so each of them has one form whoever asked.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Evaluation:
    """A model's scores on one dataset: `metrics` is what metrics.json holds (nested where it needs), `headline`
    the flat numbers printed and tabled first, `classes` the rows of `metrics["confusion"]` where there is one."""

    metrics: dict[str, Any]
    title: str
    headline: dict[str, Any] = field(default_factory=dict)
    classes: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.headline:
            self.headline = scalars(self.metrics)


def scalars(metrics: dict[str, Any]) -> dict[str, Any]:
    """The top-level numbers and names of a metrics dict (nested dicts and lists are left to the JSON)."""
    return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in metrics.items()
            if isinstance(v, (int, float, str, np.floating)) and not isinstance(v, bool)}


def print_headline(ev: Evaluation) -> None:
    for k, v in ev.headline.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")


def write_evaluation(out: str | Path, ev: Evaluation, command: str, config: dict[str, Any] | None = None,
                     metrics_csv: Path | None = None) -> list[Path]:
    """metrics.json (with the command, commit and notes), confusion.csv/.png, curves.png (from a training log)
    and report.md/.html in `out`; returns the files written."""
    from emotrace.eval.plots import plot_confusion, plot_curves, write_confusion_csv
    from emotrace.eval.report import write_report
    from emotrace.provenance import provenance

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prov = provenance(config)
    record = {**ev.metrics, "command": command, "commit": prov.get("commit"), "notes": ev.notes,
              "classes": list(ev.classes)}
    tmp = out / f".metrics.json.{os.getpid()}.part"
    tmp.write_text(json.dumps(record, indent=2, default=float) + "\n")
    os.replace(tmp, out / "metrics.json")
    written = [out / "metrics.json"]
    figures: list[Path] = []
    if "confusion" in ev.metrics and ev.classes:
        cm = np.asarray(ev.metrics["confusion"])
        names = list(ev.classes)[:cm.shape[0]] + [f"class{i}" for i in range(len(ev.classes), cm.shape[0])]
        written.append(write_confusion_csv(cm, names, out / "confusion.csv"))
        figures.append(plot_confusion(cm, names, out / "confusion.png"))
    if metrics_csv is not None and Path(metrics_csv).is_file():
        figures.append(plot_curves(metrics_csv, out / "curves.png"))
    written += figures
    shown = dict(ev.headline)
    if ev.notes:
        shown["notes"] = "; ".join(ev.notes)
    written += list(write_report(out, shown, figures=figures, title=ev.title, command=command, config=config,
                                 commit=prov.get("commit")))
    return written
