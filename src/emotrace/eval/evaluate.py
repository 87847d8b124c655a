"""Evaluate a trained or shipped model on any readable dataset, across label sets, and write the evidence.

Cross-dataset evaluation maps labels by name: a dataset sample whose class the model lacks is dropped and counted
(seed 1 tested its six-class CREMA-D model on RAVDESS without calm and surprised); a model class the dataset lacks
stays predictable and counts as an error when chosen, unless `restrict` limits the choice to shared classes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from emotrace.errors import EmotraceError
from emotrace.eval.metrics import classification_metrics, regression_metrics


def evaluate_arrays(pred: dict[str, np.ndarray], arrays: Any, classes: tuple[str, ...],
                    label_map: np.ndarray | None = None) -> dict[str, Any]:
    """Metrics of predictions against the rows' targets. `label_map[data_class] -> model class or -1`."""
    ev: dict[str, Any] = {}
    if "probs" in pred:
        y = arrays.y.copy()
        if label_map is not None:
            y = np.where(y >= 0, label_map[np.clip(y, 0, None)], -1)
        ok = y >= 0
        n_model = pred["probs"].shape[1]
        m = classification_metrics(y[ok], pred["probs"][ok].argmax(1), n_model)
        ev.update({k: m[k] for k in ("accuracy", "uar", "macro_f1")})
        ev["war"] = m["accuracy"]
        ev["n"] = int(ok.sum())
        ev["dropped_no_class"] = int((arrays.y >= 0).sum() - ok.sum())
        ev["per_class_recall"] = m["per_class_recall"]
        ev["confusion"] = m["confusion"]
    if "va" in pred:
        ok = ~np.isnan(arrays.va).any(1)
        if ok.any():
            r = regression_metrics(pred["va"][ok], arrays.va[ok])
            ev.update({"ccc": r["mean_ccc"], "rmse": r["mean_rmse"], "pearson": r["mean_pearson"]})
            for dim in ("valence", "arousal"):
                ev.update({f"{k}_{dim}": float(v) for k, v in r[dim].items()})  # type: ignore[union-attr]
            ev["va_n"] = int(ok.sum())
            ev["va_proxy"] = bool(arrays.va_proxy)
    return ev


def label_mapping(data_classes: tuple[str, ...], model_classes: tuple[str, ...]) -> np.ndarray:
    """For each dataset class, the model's index of the same emotion, or -1 when the model lacks it."""
    return np.array([model_classes.index(c) if c in model_classes else -1 for c in data_classes])


def write_evaluation(out: str | Path, ev: dict[str, Any], classes: tuple[str, ...], title: str, command: str,
                     config: dict[str, Any] | None = None, metrics_csv: Path | None = None,
                     notes: list[str] | None = None) -> list[Path]:
    """metrics.json, confusion.csv/.png, curves.png (from a training log) and report.md/.html in `out`."""
    from emotrace.eval.plots import plot_confusion, plot_curves, write_confusion_csv
    from emotrace.eval.report import write_report
    from emotrace.provenance import provenance

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prov = provenance(config)
    record = {**ev, "command": command, "commit": prov.get("commit"), "notes": notes or [], "classes": list(classes)}
    tmp = out / ".metrics.json.part"
    tmp.write_text(json.dumps(record, indent=2, default=float))
    os.replace(tmp, out / "metrics.json")
    written = [out / "metrics.json"]
    figures: dict[str, Path] = {}
    if "confusion" in ev:
        cm = np.asarray(ev["confusion"])
        names = list(classes)[:cm.shape[0]] + [f"class{i}" for i in range(len(classes), cm.shape[0])]
        written.append(write_confusion_csv(cm, names, out / "confusion.csv"))
        figures["Confusion matrix"] = plot_confusion(cm, names, out / "confusion.png")
    if metrics_csv is not None and Path(metrics_csv).is_file():
        figures["Training curves"] = plot_curves(metrics_csv, out / "curves.png")
    written += list(figures.values())
    shown = {k: v for k, v in ev.items() if k not in ("confusion", "detail")}
    if notes:
        shown["notes"] = "; ".join(notes)
    written += list(write_report(out, shown, figures=list(figures.values()), title=title, command=command,
                                 config=config, commit=prov.get("commit")))
    return written


def evaluate_model(model_ref: str, data: str, split: str | None = None, data_format: str = "auto",
                   options: dict[str, Any] | None = None, restrict: bool = False,
                   crop_cache: str = "~/.cache/emotrace/crops") -> tuple[dict[str, Any], tuple[str, ...]]:
    """Load `model_ref` (`default`, a shipped weights name, a run folder or checkpoint) and score it on `data`."""
    import torch

    from emotrace.data.readers import open_dataset
    from emotrace.models.registry import create_model, manifest
    from emotrace.models.runtime import default_frame_model
    from emotrace.train.inputs import FrameSource, build_arrays
    from emotrace.train.run import input_spec_of, load_trained, predict

    name = default_frame_model() if model_ref == "default" else model_ref
    run_cfg = None
    if name in manifest():
        model = create_model(name, pretrained=True)
        model_classes = tuple(manifest()[name]["classes"])
    else:
        model, ck = load_trained(name)
        model_classes = tuple(ck["classes"])
        run_cfg = ck.get("config")
    if run_cfg is not None and split is None and Path(data).resolve() == Path(run_cfg["data"]).resolve():
        return _evaluate_like_run(model, name, run_cfg, model_classes), model_classes
    ds = open_dataset(data, data_format, **(options or {}))
    if split:
        ds = ds.where(split=split)
        if not len(ds):
            raise EmotraceError(f"{data}: no samples in split {split!r}")
    spec = input_spec_of(model)
    if spec["kind"] == "features":
        raise EmotraceError("evaluate a temporal model through its run folder's report (it needs frame embeddings)")
    source = FrameSource(ds, int(spec["size"] or 48), os.path.expanduser(crop_cache))
    arrays = build_arrays(ds, spec, source)
    torch.set_num_threads(2)
    pred = predict(model, arrays, spec["kind"], torch.device("cpu"))
    mapping = label_mapping(ds.classes, model_classes)
    if restrict and "probs" in pred:
        shared = np.zeros(len(model_classes), bool)
        shared[mapping[mapping >= 0]] = True
        pred["probs"] = np.where(shared, pred["probs"], 0.0)
    ev = evaluate_arrays(pred, arrays, ds.classes, mapping)
    ev.update({"model": name, "data": str(data), "dataset": ds.name, "split": split or "all",
               "rows": len(arrays), "restricted_to_shared_classes": restrict,
               "dropped_classes": [c for c, m in zip(ds.classes, mapping, strict=True) if m < 0]})
    return ev, model_classes


def _evaluate_like_run(model: Any, name: str, run_cfg: dict[str, Any], model_classes: tuple[str, ...],
                       ) -> dict[str, Any]:
    """Score a run's model on its own data exactly as the run's report did: same split, fold, clips and caps."""
    import dataclasses

    import torch

    from emotrace.data.readers import open_dataset
    from emotrace.train.run import TrainConfig, _split, input_spec_of, predict, prepare_arrays

    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = TrainConfig(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in run_cfg.items() if k in fields})
    ds = open_dataset(cfg.data, cfg.data_format, **cfg.data_options)
    parts = _split(ds, cfg)
    role = "test" if "test" in parts else "valid"
    arrays = prepare_arrays(cfg, model, {role: parts[role]})[role]
    if cfg.max_eval:
        arrays = arrays.take(np.arange(min(cfg.max_eval, len(arrays))))
    torch.set_num_threads(2)
    pred = predict(model, arrays, input_spec_of(model)["kind"], torch.device("cpu"))
    ev = evaluate_arrays(pred, arrays, ds.classes, label_mapping(ds.classes, model_classes))
    ev.update({"model": name, "data": cfg.data, "dataset": ds.name, "split": role, "rows": len(arrays),
               "as_in_run": True})
    return ev
