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


def prepare_arrays(opts: dict[str, Any], spec: dict[str, Any], parts: dict[str, Any]) -> dict[str, Any]:
    """Model inputs for every dataset part, as the model's input spec asks. `opts` holds a run config's data
    fields (crop_cache, align, sampler, sampler_kwargs, frames_per_video, features_from, threads)."""
    from emotrace.data.arrays import FrameSource, build_arrays
    from emotrace.data.clips import create_sampler

    sampler = create_sampler(opts["sampler"], **opts.get("sampler_kwargs", {})) if opts.get("sampler") else None
    embed = None
    if spec["kind"] == "features":
        from emotrace.models.checkpoint import load_model
        from emotrace.models.contract import input_spec_of
        from emotrace.models.outputs import embedder

        if not opts.get("features_from"):
            raise EmotraceError("a model that reads frame-model embeddings needs features_from: a trained frame "
                                "model's run folder (two-stage training)")
        frame = load_model(opts["features_from"])
        fspec = input_spec_of(frame.model)
        spec = {**spec, "size": fspec["size"], "frame_channels": fspec["channels"]}
        embed = embedder(frame.model)
    cache = opts.get("crop_cache") or "~/.cache/emotrace/crops"
    out = {}
    for role, ds in parts.items():
        source = FrameSource(ds, int(spec["size"] or 48), os.path.expanduser(cache),
                             workers=int(opts.get("threads", 2)), align=opts.get("align", "auto"))
        out[role] = build_arrays(ds, spec, source, sampler, embed, int(opts.get("frames_per_video", 8)))
    return out


def evaluate_model(model_ref: str, data: str, split: str | None = None, data_format: str = "auto",
                   options: dict[str, Any] | None = None, restrict: bool = False,
                   crop_cache: str = "~/.cache/emotrace/crops") -> tuple[dict[str, Any], tuple[str, ...]]:
    """Load `model_ref` (`default`, a shipped weights name, a run folder or checkpoint) and score it on `data`."""
    import torch

    from emotrace.data.arrays import batch_tensor
    from emotrace.data.readers import open_dataset
    from emotrace.models.checkpoint import load_model
    from emotrace.models.outputs import predict
    from emotrace.models.runtime import default_frame_model

    name = default_frame_model() if model_ref == "default" else model_ref
    loaded = load_model(name)
    model, model_classes = loaded.model, loaded.classes
    run_cfg = None if loaded.shipped or loaded.task != "classify" else loaded.config
    if run_cfg is not None and split is None and Path(data).resolve() == Path(run_cfg["data"]).resolve():
        ev = evaluate_like_run(model, run_cfg, model_classes)
        ev["model"] = name
        return ev, model_classes
    ds = open_dataset(data, data_format, **(options or {}))
    if split:
        ds = ds.where(split=split)
        if not len(ds):
            raise EmotraceError(f"{data}: no samples in split {split!r}")
    spec = loaded.contract.spec
    if spec["kind"] == "features":
        raise EmotraceError("a temporal or two-stage model is evaluated on its own data (its run folder, or "
                            "`emotrace evaluate` on a shipped temporal model)")
    arrays = prepare_arrays({"crop_cache": crop_cache}, spec, {"all": ds})["all"]
    torch.set_num_threads(2)
    pred = predict(model, len(arrays), lambda idx: batch_tensor(arrays, idx, spec["kind"]))
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


def evaluate_like_run(model: Any, run_cfg: dict[str, Any], model_classes: tuple[str, ...]) -> dict[str, Any]:
    """Score a classify run's model on its own data exactly as its report did: same split, fold, clips and caps."""
    import torch

    from emotrace.data.arrays import batch_tensor
    from emotrace.data.readers import open_dataset
    from emotrace.data.splits import split_dataset
    from emotrace.models.contract import input_spec_of
    from emotrace.models.outputs import predict

    c = run_cfg
    ds = open_dataset(c["data"], c.get("data_format", "auto"), **c.get("data_options", {}))
    parts = split_dataset(ds, c["split"], c["seed"], train_split=c["train_split"], valid_split=c["valid_split"],
                          test_split=c["test_split"], kfold=c["kfold"], fold=c["fold"],
                          fixed_sizes=tuple(c["fixed_sizes"]), by_subject=c["by_subject"])
    role = "test" if "test" in parts else "valid"
    spec = input_spec_of(model)
    arrays = prepare_arrays(c, spec, {role: parts[role]})[role]
    if c.get("max_eval"):
        arrays = arrays.take(np.arange(min(c["max_eval"], len(arrays))))
    torch.set_num_threads(2)
    pred = predict(model, len(arrays), lambda idx: batch_tensor(arrays, idx, spec["kind"]))
    ev = evaluate_arrays(pred, arrays, ds.classes, label_mapping(ds.classes, model_classes))
    ev.update({"data": c["data"], "dataset": ds.name, "split": role, "rows": len(arrays), "as_in_run": True})
    return ev
