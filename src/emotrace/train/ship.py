"""`emotrace ship RUN --name NAME`: put any trained run that can drive the pipeline into the package: weights
(.pt, state dict only), ONNX (checked against PyTorch), checksums, metrics measured now, and a model card.

Frame models (tasks frame and distill) are measured on FER+ Valid; temporal models on the rendered FER+ Valid
sequences and on the videos of `media` (flicker), plus a CK+ k-fold summary when `--crossval` names one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emotrace.errors import EmotraceError
from emotrace.hashing import file_sha256
from emotrace.models.checkpoint import load_model
from emotrace.models.export import export_temporal_onnx, onnx_parity
from emotrace.models.manifest import WEIGHTS_DIR, WeightRecord, save_record
from emotrace.models.runtime import export_onnx
from emotrace.provenance import git_commit

LICENCES = {"frame": "FER2013 / FER+ labels: research use only",
            "mix": "FER2013 / FER+ labels, CK+, TFEID and SFEW 2.0: research use only",
            "temporal": "FER2013 / FER+ labels and CK+: research use only"}


def _role(loaded: Any) -> str:
    if loaded.task == "temporal":
        return "temporal"
    outputs = set(loaded.contract.outputs)
    if loaded.contract.kind == "image" and loaded.contract.channels == 1 and {"logits", "embedding"} <= outputs:
        return "frame"
    raise EmotraceError(f"this run's model ({loaded.arch}, {loaded.contract.kind} input, outputs "
                        f"{', '.join(loaded.contract.outputs)}) cannot drive the pipeline, so it is not shipped; "
                        "`emotrace evaluate` and `emotrace export` work on the run folder as it is")


def frame_metrics(model: torch.nn.Module, data_root: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The frame card's numbers on FER+ Valid, and its confusion matrices."""
    from emotrace.data.readers.ferplus import read_split
    from emotrace.eval.ferplus import evaluate_ferplus

    valid = read_split(data_root, "valid")
    ev = evaluate_ferplus(model, valid)
    metrics = {
        "ferplus_valid_acc_7class_plurality": ev["ferplus7"]["accuracy"],
        "ferplus_valid_uar_7class": ev["ferplus7"]["uar"],
        "ferplus_valid_macro_f1_7class": ev["ferplus7"]["macro_f1"],
        "ferplus_valid_n": ev["ferplus7"]["n"],
        "ferplus_valid_acc_7class_majority": ev["ferplus_majority7"]["accuracy"],
        "ferplus_valid_uar_7class_majority": ev["ferplus_majority7"]["uar"],
        "ferplus_valid_n_7class_majority": ev["ferplus_majority7"]["n"],
        "fer2013_valid_acc_original_labels": ev["fer2013"]["accuracy"],
        "fer2013_valid_uar": ev["fer2013"]["uar"],
        "fer2013_valid_n": ev["fer2013"]["n"],
        "fer2013_valid_acc_main_head": ev["fer2013_main_head"]["accuracy"],
    }
    confusions = {"confusion_ferplus7": ev["ferplus7"]["confusion"],
                  "confusion_ferplus_majority7": ev["ferplus_majority7"]["confusion"],
                  "confusion_fer2013": ev["fer2013"]["confusion"]}
    if "ferplus_majority8" in ev:
        metrics.update({"ferplus_valid_acc_8class_majority": ev["ferplus_majority8"]["accuracy"],
                        "ferplus_valid_uar_8class_majority": ev["ferplus_majority8"]["uar"],
                        "ferplus_valid_n_8class_majority": ev["ferplus_majority8"]["n"]})
        confusions["confusion_ferplus_majority8"] = ev["ferplus_majority8"]["confusion"]
    cal = ev["calibration"]
    metrics.update({"calibration_temperature": cal["calibration_temperature"],
                    "calibration_fit_on": "FER+ Valid, even rows (plurality label, 7 classes)",
                    **{f"ferplus_valid_{k}": v for k, v in cal.items() if k.startswith("ece")}})
    if "va" in ev:
        metrics.update({"va_proxy_ccc_valence": ev["va"]["valence"]["ccc"],
                        "va_proxy_ccc_arousal": ev["va"]["arousal"]["ccc"],
                        "va_proxy_mean_ccc": ev["va"]["mean_ccc"]})
    return metrics, confusions


def run_prior(config: dict[str, Any]) -> np.ndarray:
    """The class prior a mix run trained against (its datasets' labels under its sampler)."""
    from emotrace.config import load_config
    from emotrace.train.tasks import create_task
    from emotrace.train.tasks.mix import MixConfig

    if config.get("task") != "mix":
        raise EmotraceError("prior_shift applies to mix runs (trained with balance: logit_adjust)")
    cfg = load_config(MixConfig, None, **{k: v for k, v in config.items() if v is not None})
    task = create_task(cfg)
    task.setup(torch.device("cpu"))
    return np.asarray(task.prior, np.float64)


def photo_set_metrics(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """A mix run's photo sets scored through the pipeline on the groups the run held out (what
    `emotrace evaluate NAME SET --photos --split holdout` prints)."""
    from emotrace.eval.photos import evaluate_photo_set

    res = {}
    for set_name, root in config.get("extra", {}).items():
        kinds = ("apex", "neutral") if set_name == "ckplus" else ()
        rows = "all" if set_name in config.get("exclude", []) else "holdout"
        m = evaluate_photo_set(name, root, set_name, rows, config.get("holdout_fraction", 0.25),
                               config.get("holdout_seed", 0), kinds=kinds)
        res[set_name] = {k: m[k] for k in ("accuracy", "uar", "per_class_recall", "predicted_share", "true_share",
                                           "neutral_share_gap", "n", "no_face", "taken_as_crop", "rows")}
    return res


def temporal_metrics(name: str, ferplus_root: str, media: str, crossval_dir: str | None) -> dict[str, Any]:
    """The temporal card's numbers, measured through `evaluate_temporal` (what `emotrace evaluate` runs)."""
    from emotrace.eval.temporal import evaluate_temporal

    syn = evaluate_temporal(name, ferplus_root)
    flick = evaluate_temporal(name, media)
    metrics: dict[str, Any] = {
        "ferplus_valid_synthetic": {k: v for k, v in syn.items() if k not in ("model", "data", "kind")},
        "media_flicker": {k: v for k, v in flick.items() if k not in ("model", "data", "kind")},
    }
    if crossval_dir:
        metrics["ckplus_10fold"] = json.loads((Path(crossval_dir) / "crossval.json").read_text())
    return metrics


def ship_run(run_dir: str | Path, name: str, default: bool = True, data_root: str = "../shared/data/ferplus",
             media: str = "../shared/media", crossval_dir: str | None = None, half: bool = False,
             prior_shift: float = 0.0) -> WeightRecord:
    """Ship the model of run folder `run_dir` as `name` (see the module docstring); returns its record.

    `half` stores the .pt in float16 (half the bytes; loading casts back to float32). The weights are rounded to
    float16 before anything else, so the ONNX file and every measured number are those of the shipped weights.

    `prior_shift` s (mix runs trained with logit adjustment) adds s * log(training prior) to the main head's bias:
    s = 0 keeps the balanced logits, s = 1 gives back the prior-weighted ones; in between trades FER+ accuracy
    (whose classes are as unbalanced as the prior) against recall of rare classes. Exact, and in the ONNX file too."""
    from emotrace.train.cards import write_cards

    run = Path(run_dir)
    loaded = load_model(run)
    role = _role(loaded)
    info = json.loads((run / "run.json").read_text()) if (run / "run.json").is_file() else {}
    model = loaded.model.eval()
    pt, onnx = WEIGHTS_DIR / f"{name}.pt", WEIGHTS_DIR / f"{name}.onnx"
    if prior_shift:
        shift = prior_shift * torch.log(torch.from_numpy(run_prior(loaded.config)).float().clamp_min(1e-4))
        with torch.no_grad():
            model.head.bias += shift
    state = model.state_dict()
    if half:
        with torch.no_grad():
            for v in state.values():
                if v.is_floating_point():
                    v.copy_(v.half().float())
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    torch.save(state, pt)
    if role == "frame":
        export_onnx(model, str(onnx), input_size=int(loaded.contract.size or 48))
        gap = onnx_parity(model, str(onnx), loaded.contract.spec)
    else:
        export_temporal_onnx(model, str(onnx))
        gap = onnx_parity(model, str(onnx), loaded.contract.spec, temporal=True)
    if gap > 1e-3:
        raise EmotraceError(f"ONNX export of {name} differs from PyTorch by {gap:.2e}; not shipped")
    trained_on = (f"{info.get('device', 'unknown device')}, {info.get('processes', 1)} process(es), "
                  f"{info.get('train_seconds', 0) / 60:.1f} min of training, {info.get('epochs_done', '?')} epochs"
                  if info else "not recorded")
    rec = WeightRecord(
        name=name, role=role, arch=loaded.arch, arch_kwargs=loaded.arch_kwargs, contract=loaded.contract,
        file=pt.name, sha256=file_sha256(pt), default=default, onnx_file=onnx.name, onnx_sha256=file_sha256(onnx),
        size_bytes=pt.stat().st_size + onnx.stat().st_size, frame_model=loaded.frame_model, task=loaded.task,
        description=("aligned gray face, FER template" if role == "frame"
                     else f"embedding of {loaded.frame_model} per frame of one track")
        + (f"; main head's bias shifted by {prior_shift:g} x log(training prior)" if prior_shift else "")
        + ("; .pt stored in float16" if half else ""),
        trained_with=info.get("command", ""), trained_on=trained_on, weights_from=Path(loaded.source).name,
        commit=info.get("commit", git_commit()), train_config=loaded.config,
        data_licence=LICENCES["mix"] if loaded.task == "mix" else LICENCES[role])
    if role == "frame":
        rec.metrics, rec.confusions = frame_metrics(model, data_root)
        rec.temperature = float(rec.metrics["calibration_temperature"])
        rec.prior_shift = float(prior_shift)
        save_record(rec)
        if loaded.task == "mix":  # scored through the pipeline, which reads the record just saved
            rec.metrics["photo_sets_holdout"] = photo_set_metrics(name, loaded.config)
            save_record(rec)
        if (run / "metrics.csv").is_file():
            shutil.copy(run / "metrics.csv", WEIGHTS_DIR / f"{name}.training-log.csv")
    else:
        save_record(rec)  # evaluate_temporal reads the shipped record
        rec.metrics = temporal_metrics(name, data_root, media, crossval_dir)
        save_record(rec)
    write_cards([name])
    return rec
