"""Evaluate a trained or shipped model on any readable dataset, across label sets, and write the evidence.

Cross-dataset evaluation maps labels by name: a dataset sample whose class the model lacks is dropped and counted
(seed 1 tested its six-class CREMA-D model on RAVDESS without calm and surprised); a model class the dataset lacks
stays predictable and counts as an error when chosen, unless `restrict` limits the choice to shared classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emotrace.errors import EmotraceError
from emotrace.eval.evaluation import Evaluation
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


def evaluate_dataset(loaded: Any, data: str, split: str | None = None, data_format: str = "auto",
                     options: dict[str, Any] | None = None, restrict: bool = False,
                     crop_cache: str = "~/.cache/emotrace/crops") -> Evaluation:
    """Score a model (`LoadedModel`) on any readable dataset, its labels mapped by name (see the module
    docstring)."""
    import torch

    from emotrace.data.arrays import batch_tensor, prepare_arrays
    from emotrace.data.readers import open_dataset
    from emotrace.models.outputs import predict

    model, model_classes = loaded.model, loaded.classes
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
    ev.update({"model": loaded.ref, "data": str(data), "dataset": ds.name, "split": split or "all",
               "rows": len(arrays), "restricted_to_shared_classes": restrict,
               "dropped_classes": [c for c, m in zip(ds.classes, mapping, strict=True) if m < 0]})
    return Evaluation(ev, title=f"{loaded.ref} on {ds.name}", classes=tuple(model_classes), notes=list(ds.notes))
