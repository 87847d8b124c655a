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

import torch

from emotrace.errors import EmotraceError
from emotrace.eval.ferplus import card_metrics
from emotrace.eval.photos import CARD_FIELDS
from emotrace.hashing import file_sha256
from emotrace.models.checkpoint import load_model
from emotrace.models.export import export_checked
from emotrace.models.manifest import WEIGHTS_DIR, WeightRecord, save_record
from emotrace.models.run_folder import RunFolder
from emotrace.provenance import git_commit
from emotrace.train.tasks import EvalRequest, Task, task_for

LICENCES = {"frame": "FER2013 / FER+ labels: research use only",
            "mix": "FER2013 / FER+ labels, CK+, TFEID and SFEW 2.0: research use only",
            "temporal": "FER2013 / FER+ labels and CK+: research use only"}


def _role(loaded: Any) -> str:
    if loaded.task == "temporal" and not loaded.contract.extra.get("signals"):
        return "temporal"
    outputs = set(loaded.contract.outputs)
    if loaded.contract.kind == "image" and loaded.contract.channels == 1 and {"logits", "embedding"} <= outputs:
        return "frame"
    reads = " and face signals" if loaded.contract.extra.get("signals") else ""
    raise EmotraceError(f"this run's model ({loaded.arch}, {loaded.contract.kind}{reads} input, outputs "
                        f"{', '.join(loaded.contract.outputs)}) cannot drive the pipeline, so it is not shipped; "
                        "`emotrace evaluate` and `emotrace export` work on the run folder as it is")


def card_photo_sets(task: Task, name: str) -> dict[str, Any]:
    """A mix run's photo sets scored through the pipeline on the groups the run held out (what
    `emotrace evaluate NAME SET --photos --split holdout` prints), as the card keeps them."""
    shipped = load_model(name)
    res = {}
    for set_name, root in task.cfg.extra.items():
        ev = task.evaluate(shipped, root, EvalRequest(split="holdout", photos=True))
        res[set_name] = {k: ev.metrics[k] for k in CARD_FIELDS}
    return res


def card_temporal(task: Task, name: str, ferplus_root: str, media: str, crossval_dir: str | None) -> dict[str, Any]:
    """A temporal card's numbers: the rendered FER+ Valid sequences and flicker on `media`, measured on the shipped
    model by its task's evaluation (what `emotrace evaluate` runs), and a k-fold summary where one is named."""
    shipped = load_model(name)
    metrics: dict[str, Any] = {}
    for key, data in (("ferplus_valid_synthetic", ferplus_root), ("media_flicker", media)):
        ev = task.evaluate(shipped, data)
        metrics[key] = {k: v for k, v in ev.metrics.items() if k not in ("model", "data", "kind")}
    if crossval_dir:
        metrics["ckplus_10fold"] = json.loads(RunFolder(crossval_dir).crossval.read_text())
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

    run = RunFolder(run_dir)
    loaded = load_model(run.path)
    role = _role(loaded)
    task = task_for(loaded)
    info = run.info()
    model = loaded.model.eval()
    pt, onnx = WEIGHTS_DIR / f"{name}.pt", WEIGHTS_DIR / f"{name}.onnx"
    if prior_shift:
        if loaded.task != "mix":
            raise EmotraceError("prior_shift applies to mix runs (trained with balance: logit_adjust)")
        shift = prior_shift * torch.log(torch.from_numpy(run.prior()).float().clamp_min(1e-4))
        with torch.no_grad():
            model.head.bias += shift
    state = model.state_dict()
    if half:
        with torch.no_grad():
            for v in state.values():
                if v.is_floating_point():
                    v.copy_(v.half().float())
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    export_checked(loaded, onnx)
    torch.save(state, pt)
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
        rec.metrics, rec.confusions = card_metrics(task.evaluate(loaded, data_root))
        rec.temperature = float(rec.metrics["calibration_temperature"])
        rec.prior_shift = float(prior_shift)
        save_record(rec)
        if loaded.task == "mix":  # scored through the pipeline, which reads the record just saved
            rec.metrics["photo_sets_holdout"] = card_photo_sets(task, name)
            save_record(rec)
        if run.log.is_file():
            shutil.copy(run.log, WEIGHTS_DIR / f"{name}.training-log.csv")
    else:
        save_record(rec)  # the flicker measurement runs the shipped record through the pipeline
        rec.metrics = card_temporal(task, name, data_root, media, crossval_dir)
        save_record(rec)
    write_cards([name])
    return rec
