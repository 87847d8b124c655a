"""Train any registered architecture on any readable dataset from one YAML config (`emotrace train CONFIG`).

One loop serves every seed: the model's `input_spec` decides whether it sees stills, clips, frame sequences or
windows of embeddings from an already-trained frame model (seed 4's two-stage training; end-to-end CNN-LSTMs see
clips). Each epoch writes `last.pt` with the model, optimiser, scheduler and every random-number state, so an
interrupted run resumes to the same weights; `best.pt` keeps the best epoch by the chosen validation metric.
`metrics.csv` (and TensorBoard events where tensorboard is installed) log every epoch; at the end the best
checkpoint is evaluated and a report with every figure, the command, the config and the commit is written.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from emotrace.config import config_to_dict
from emotrace.data.balance import balanced_sample_weights, class_weights, va_downsample
from emotrace.data.clips import create_sampler
from emotrace.data.readers import open_dataset
from emotrace.data.schema import Dataset
from emotrace.data.splits import fixed_size_split, official_split, subject_kfold
from emotrace.errors import EmotraceError
from emotrace.models import create_model
from emotrace.train.augment import random_affine
from emotrace.train.inputs import Arrays, FrameSource, build_arrays, proxy_va_if_missing

log = logging.getLogger("emotrace")


@dataclass
class TrainConfig:
    """Fields of a training config (YAML). Sections: model, data, split, targets, optimisation, run."""

    name: str = "run"
    arch: str = "emotrace-cnn-s"
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    # data
    data: str = "../shared/data/ferplus"
    data_format: str = "auto"
    data_options: dict[str, Any] = field(default_factory=dict)
    crop_cache: str = "~/.cache/emotrace/crops"
    align: str = "auto"  # auto: detect + align unless the data are face crops already; always; never (use as is)
    sampler: str = ""  # fixed | sliding | uniform; empty = the model's default
    sampler_kwargs: dict[str, Any] = field(default_factory=dict)
    frames_per_video: int = 8  # still models on video: frames taken per video
    features_from: str = ""  # features models: run folder or checkpoint of a trained frame model
    # split
    split: str = "official"  # official | kfold | fixed
    train_split: str = "train"
    valid_split: str = "valid"
    test_split: str = ""
    kfold: int = 10
    fold: int = 0
    fixed_sizes: tuple[int, int] = (5000, 1000)
    by_subject: bool = True
    # targets and loss
    target: str = "auto"  # classes | va | both; auto follows the model's output
    loss: str = "auto"  # ce | soft_ce | ccc | mse | multitask; auto = ce (classes), ccc (va), multitask (both)
    label_smoothing: float = 0.0
    class_weights: bool = False
    balanced_sampler: bool = False
    va_balance: str = ""  # max | mean | average: seed 4's histogram down-sampling of the training set
    # optimisation
    optimizer: str = "adam"  # adam | adamw | sgd
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.9
    weight_decay: float = 0.0
    scheduler: str = "none"  # none | cosine | step | plateau | onecycle
    epochs: int = 10
    batch_size: int = 32
    early_stopping: int = 0  # patience in epochs; 0 = off
    best_metric: str = "auto"  # accuracy | uar | macro_f1 | ccc | loss; auto = accuracy or ccc
    augment: bool = True
    # run
    seed: int = 0
    threads: int = 2
    device: str = "auto"  # auto | cpu | cuda
    amp: bool = True  # mixed precision when on a GPU
    max_train: int = 0  # >0 caps the training rows (smoke runs)
    max_eval: int = 0
    out_dir: str = "runs/run"


# ----------------------------------------------------------------------------------------------------------- data

def _split(ds: Dataset, cfg: TrainConfig) -> dict[str, Dataset]:
    if cfg.split == "official":
        parts = official_split(ds)
        out = {}
        for role, name in (("train", cfg.train_split), ("valid", cfg.valid_split), ("test", cfg.test_split)):
            if name:
                if name not in parts:
                    raise EmotraceError(f"split {name!r} not in {ds.name} (has: {', '.join(parts) or 'none'}); "
                                        "use split: kfold or fixed")
                out[role] = ds.subset(parts[name])
        return out
    if cfg.split == "kfold":
        folds = subject_kfold(ds, k=cfg.kfold, seed=cfg.seed)
        if not 0 <= cfg.fold < cfg.kfold:
            raise EmotraceError(f"fold must be 0..{cfg.kfold - 1}")
        train, test = folds[cfg.fold]
        # validation = the next fold's subjects, taken out of training, so the test fold stays unseen
        _, valid = folds[(cfg.fold + 1) % cfg.kfold]
        train = np.setdiff1d(train, valid)
        return {"train": ds.subset(train), "valid": ds.subset(valid), "test": ds.subset(test)}
    if cfg.split == "fixed":
        parts = fixed_size_split(ds, cfg.fixed_sizes[0], cfg.fixed_sizes[1], by_subject=cfg.by_subject,
                                 seed=cfg.seed)
        return {k: ds.subset(v) for k, v in parts.items()}
    raise EmotraceError(f"split must be official, kfold or fixed, not {cfg.split!r}")


def input_spec_of(model: torch.nn.Module) -> dict[str, Any]:
    """The model's declared input, or the project frame CNN's / temporal RNN's when it declares none."""
    spec = getattr(model, "input_spec", None)
    if spec:
        return dict(spec)
    if hasattr(model, "rnn"):
        return {"kind": "features", "frames": None, "size": 48, "channels": 1}
    return {"kind": "image", "frames": None, "size": 48, "channels": 1}


def output_of(model: torch.nn.Module) -> str:
    out = getattr(model, "output", None)
    if out:
        return str(out)
    return "both" if getattr(model, "va_head", None) is not None else "classes"


def model_outputs(model: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every architecture's output as {'logits': (N, C)} and/or {'va': (N, 2)}; sequence outputs -> last step."""
    out = model(x)
    if isinstance(out, tuple):
        out = out[0]
    if isinstance(out, dict):
        res = {}
        if "logits" in out:
            res["logits"] = out["logits"][:, -1] if out["logits"].dim() == 3 else out["logits"]
        if "valence_arousal" in out:
            v = out["valence_arousal"]
            res["va"] = v[:, -1] if v.dim() == 3 else v
        return res
    return {"va": out} if output_of(model) == "va" else {"logits": out}


def load_trained(path: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """A model from a run folder (its best.pt), a checkpoint written by this trainer, or shipped weights by name."""
    from emotrace.models.registry import manifest

    if str(path) in manifest():
        rec = manifest()[str(path)]
        shipped = create_model(str(path), pretrained=True)
        shipped.eval()
        return shipped, {"arch": rec["arch"], "classes": rec["classes"]}
    p = Path(path).expanduser()
    ck_path = p / "best.pt" if p.is_dir() else p
    if not ck_path.is_file():
        raise EmotraceError(f"no trained model at {p} (expected a run folder with best.pt, or a .pt checkpoint)")
    ck = torch.load(ck_path, map_location="cpu", weights_only=False)
    if not isinstance(ck, dict) or "arch" not in ck:
        raise EmotraceError(f"{ck_path} is not a checkpoint written by `emotrace train`")
    model = create_model(ck["arch"], **ck.get("arch_kwargs", {}))
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck


def embedder(frame_model: torch.nn.Module, batch: int = 256) -> Any:
    """uint8 frames (T, C, S, S) -> embeddings (T, D) from a frame model (two-stage training, stage 2 input)."""
    @torch.no_grad()
    def run(frames: np.ndarray) -> np.ndarray:
        frame_model.eval()
        outs = []
        for i in range(0, len(frames), batch):
            x = torch.from_numpy(frames[i:i + batch]).float().div_(255)
            y = frame_model(x, return_features=True) if hasattr(frame_model, "features") else frame_model(x)
            outs.append((y[1] if isinstance(y, tuple) else y["embedding"]).float().numpy())
        return np.concatenate(outs)

    return run


def prepare_arrays(cfg: TrainConfig, model: torch.nn.Module, parts: dict[str, Dataset]) -> dict[str, Arrays]:
    spec = input_spec_of(model)
    sampler = create_sampler(cfg.sampler, **cfg.sampler_kwargs) if cfg.sampler else None
    embed = None
    if spec["kind"] == "features":
        if not cfg.features_from:
            raise EmotraceError(f"{cfg.arch} reads frame-model embeddings: set features_from to a trained frame "
                                "model's run folder (two-stage training)")
        frame_model, ck = load_trained(cfg.features_from)
        fspec = input_spec_of(frame_model)
        spec = {**spec, "size": fspec["size"], "frame_channels": fspec["channels"]}
        embed = embedder(frame_model)
    out = {}
    for role, ds in parts.items():
        source = FrameSource(ds, int(spec["size"] or 48), cfg.crop_cache and os.path.expanduser(cfg.crop_cache),
                             workers=cfg.threads, align=cfg.align)
        arrays = build_arrays(ds, spec, source, sampler, embed, cfg.frames_per_video)
        out[role] = arrays
    return out


# ---------------------------------------------------------------------------------------------------- optimisation

def make_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    params = model.parameters()
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    raise EmotraceError(f"optimizer must be adam, adamw or sgd, not {cfg.optimizer!r}")


def make_scheduler(cfg: TrainConfig, opt: torch.optim.Optimizer, steps_per_epoch: int) -> Any:
    if cfg.scheduler == "none":
        return None
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs * steps_per_epoch)
    if cfg.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, epochs=cfg.epochs,
                                                   steps_per_epoch=steps_per_epoch, pct_start=0.15)
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, cfg.epochs // 3) * steps_per_epoch, gamma=0.1)
    if cfg.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=2)
    raise EmotraceError(f"scheduler must be none, cosine, onecycle, step or plateau, not {cfg.scheduler!r}")


def _device(cfg: TrainConfig) -> torch.device:
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(cfg.device)


def _save_atomic(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.part")
    torch.save(obj, tmp)
    os.replace(tmp, path)


class _Logger:
    """metrics.csv always; TensorBoard event files too when the tensorboard package is installed."""

    def __init__(self, out: Path, fresh: bool) -> None:
        self.path = out / "metrics.csv"
        if fresh and self.path.exists():
            self.path.unlink()
        self.tb = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(out / "tensorboard"))
        except ImportError:
            log.info("tensorboard not installed: metrics go to metrics.csv only")

    def write(self, row: dict[str, Any]) -> None:
        rows = []
        if self.path.is_file():
            with open(self.path, newline="") as fh:
                rows = [r for r in csv.DictReader(fh) if int(r["epoch"]) < row["epoch"]]
        rows.append(row)
        fields = list(dict.fromkeys(k for r in rows for k in r))
        tmp = self.path.with_name(".metrics.csv.part")
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, self.path)
        if self.tb is not None:
            for k, v in row.items():
                if k != "epoch" and isinstance(v, (int, float)) and math.isfinite(v):
                    self.tb.add_scalar(k, v, row["epoch"])
            self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


# ------------------------------------------------------------------------------------------------------- training

def _class_outputs(model: torch.nn.Module) -> int | None:
    """Width of the classification head, found as the last Linear layer's outputs (None for VA-only models)."""
    if output_of(model) == "va":
        return None
    head = getattr(model, "head", None)
    linears = [m for m in (head.modules() if isinstance(head, torch.nn.Module) else model.modules())
               if isinstance(m, torch.nn.Linear)]
    return linears[-1].out_features if linears else None


def _targets(cfg: TrainConfig, model: torch.nn.Module) -> str:
    if cfg.target != "auto":
        return cfg.target
    return output_of(model)


def _loss_name(cfg: TrainConfig, target: str, has_soft: bool) -> str:
    if cfg.loss != "auto":
        return cfg.loss
    return {"classes": "soft_ce" if has_soft else "ce", "va": "ccc", "both": "multitask"}[target]


def _batch_x(a: Arrays, idx: np.ndarray, device: torch.device, augment: bool, gen: torch.Generator,
             kind: str) -> torch.Tensor:
    x = torch.from_numpy(a.x[idx])
    if kind == "features":
        return x.float().to(device)
    x = x.float().div_(255)
    if augment:
        x = random_affine(x, gen)
    return x.to(device)


@torch.no_grad()
def predict(model: torch.nn.Module, a: Arrays, kind: str, device: torch.device, batch: int = 256,
            ) -> dict[str, np.ndarray]:
    """Probabilities and/or valence/arousal for every row."""
    model.eval()
    probs, vas = [], []
    for i in range(0, len(a), batch):
        idx = np.arange(i, min(len(a), i + batch))
        out = model_outputs(model, _batch_x(a, idx, device, False, torch.Generator(), kind))
        if "logits" in out:
            probs.append(torch.softmax(out["logits"].float(), 1).cpu().numpy())
        if "va" in out:
            vas.append(out["va"].float().cpu().numpy())
    res = {}
    if probs:
        res["probs"] = np.concatenate(probs)
    if vas:
        res["va"] = np.concatenate(vas)
    return res


def train(cfg: TrainConfig, resume: bool = False, command: str | None = None,
          on_epoch_end: Any = None) -> dict[str, Any]:
    """Run or resume one training; returns the evaluation of the best checkpoint.

    `on_epoch_end(epoch, row)` is called after each epoch's checkpoint is on disk (progress displays, tests)."""
    from emotrace.eval.evaluate import evaluate_arrays, write_evaluation
    from emotrace.train.objective import make_objective

    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    command = command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    (out / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    device = _device(cfg)

    ds = open_dataset(cfg.data, cfg.data_format, **cfg.data_options)
    parts = _split(ds, cfg)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    model = create_model(cfg.arch, **cfg.arch_kwargs)
    n_out = _class_outputs(model)
    if n_out is not None and n_out != len(ds.classes):
        raise EmotraceError(f"{cfg.arch} has {n_out} class outputs but {ds.name} has {len(ds.classes)} classes "
                            f"({', '.join(ds.classes)}): set arch_kwargs num_classes: {len(ds.classes)}")
    spec = input_spec_of(model)
    arrays = prepare_arrays(cfg, model, parts)
    target = _targets(cfg, model)
    if target in ("va", "both"):
        arrays = {k: proxy_va_if_missing(v, ds.classes) for k, v in arrays.items()}
    train_a = arrays["train"]
    if cfg.va_balance:
        keep = va_downsample(train_a.va, cfg.va_balance, rng=np.random.default_rng(cfg.seed))
        log.info("seed-4 VA balancing (%s) keeps %d of %d training rows", cfg.va_balance, keep.sum(), len(keep))
        train_a = train_a.take(np.flatnonzero(keep))
    if target != "va":
        train_a = train_a.take(np.flatnonzero(train_a.y >= 0))
    if cfg.max_train:
        train_a = train_a.take(np.arange(min(cfg.max_train, len(train_a))))
    eval_a = {k: (v.take(np.arange(min(cfg.max_eval, len(v)))) if cfg.max_eval else v)
              for k, v in arrays.items() if k != "train"}
    if "valid" not in eval_a:
        raise EmotraceError("a validation split is needed (valid_split, kfold or fixed)")
    num_classes = len(ds.classes)
    weights = class_weights(train_a.y, num_classes) if cfg.class_weights and target != "va" else None
    loss_name = _loss_name(cfg, target, train_a.soft is not None)
    loss_fn = make_objective(loss_name, label_smoothing=cfg.label_smoothing,
                             class_weights=None if weights is None else torch.tensor(weights, dtype=torch.float32))
    best_metric = cfg.best_metric if cfg.best_metric != "auto" else ("ccc" if target == "va" else "accuracy")

    model.to(device)
    opt = make_optimizer(cfg, model)
    steps = max(1, math.ceil(len(train_a) / cfg.batch_size))
    sched = make_scheduler(cfg, opt, steps)
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    gen = torch.Generator().manual_seed(cfg.seed)
    start, best, stale = 0, {"epoch": -1, "value": -math.inf}, 0
    last = out / "last.pt"
    if resume and last.is_file():
        ck = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        if sched is not None and ck.get("sched") is not None:
            sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        if ck.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(ck["cuda_rng"])
        start, best, stale = ck["epoch"] + 1, ck["best"], ck.get("stale", 0)
        log.info("resumed after epoch %d", ck["epoch"] + 1)
    elif resume:
        log.info("no last.pt in %s: starting fresh", out)
    logger = _Logger(out, fresh=start == 0)
    meta = {"arch": cfg.arch, "arch_kwargs": cfg.arch_kwargs, "classes": list(ds.classes), "input_spec": spec,
            "target": target, "dataset": ds.name, "config": config_to_dict(cfg)}
    sample_w = balanced_sample_weights(train_a.y, num_classes) if cfg.balanced_sampler else None
    log.info("%s: train %d, valid %d rows; %s input %s; loss %s; device %s", cfg.name, len(train_a),
             len(eval_a["valid"]), spec["kind"], tuple(train_a.x.shape[1:]), loss_name, device)

    for epoch in range(start, cfg.epochs):
        model.train()
        t0 = time.perf_counter()
        if sample_w is not None:
            order = torch.multinomial(torch.tensor(sample_w), len(train_a), replacement=True, generator=gen)
        else:
            order = torch.randperm(len(train_a), generator=gen)
        order = order.numpy()
        total, seen = 0.0, 0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            x = _batch_x(train_a, idx, device, cfg.augment and spec["kind"] != "features", gen, spec["kind"])
            with torch.autocast(device.type, enabled=use_amp):
                outputs = model_outputs(model, x)
            targets = {"y": torch.from_numpy(train_a.y[idx]).to(device),
                       "va": torch.from_numpy(train_a.va[idx]).to(device)}
            if train_a.soft is not None:
                targets["soft"] = torch.from_numpy(train_a.soft[idx]).to(device)
            loss = loss_fn({k: v.float() for k, v in outputs.items()}, targets)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            if sched is not None and not isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                sched.step()
            total += float(loss.item()) * len(idx)
            seen += len(idx)
        secs = time.perf_counter() - t0
        ev = evaluate_arrays(predict(model, eval_a["valid"], spec["kind"], device), eval_a["valid"], ds.classes)
        value = ev.get(best_metric, -ev.get("loss", 0.0)) if best_metric != "loss" else -total / seen
        if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(value)
        row = {"epoch": epoch, "train_loss": total / seen, "lr": opt.param_groups[0]["lr"],
               "rows_per_s": seen / secs, **{f"valid_{k}": v for k, v in ev.items() if isinstance(v, float)}}
        logger.write(row)
        if value > best["value"]:
            best, stale = {"epoch": epoch, "value": float(value), "metric": best_metric}, 0
            _save_atomic({**meta, "state_dict": model.state_dict(), "epoch": epoch}, out / "best.pt")
        else:
            stale += 1
        _save_atomic({"model": model.state_dict(), "opt": opt.state_dict(),
                      "sched": None if sched is None else sched.state_dict(), "gen": gen.get_state(),
                      "torch_rng": torch.get_rng_state(),
                      "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                      "epoch": epoch, "best": best, "stale": stale}, last)
        log.info("epoch %d/%d loss %.4f valid %s %.4f (%.0f rows/s)", epoch + 1, cfg.epochs, row["train_loss"],
                 best_metric, value, row["rows_per_s"])
        if on_epoch_end is not None:
            on_epoch_end(epoch, row)
        if cfg.early_stopping and stale >= cfg.early_stopping:
            log.info("early stopping: no better %s for %d epochs", best_metric, stale)
            break
    logger.close()

    model, _ = load_trained(out)
    model.to(device)
    final_role = "test" if "test" in eval_a else "valid"
    final = eval_a[final_role]
    ev = evaluate_arrays(predict(model, final, spec["kind"], device), final, ds.classes)
    ev.update({"split": final_role, "best_epoch": best["epoch"] + 1, "best_metric": best_metric,
               "dataset": ds.name, "data": cfg.data, "rows": len(final), "train_rows": len(train_a)})
    write_evaluation(out, ev, ds.classes, title=f"{cfg.name}: {cfg.arch} on {ds.name} ({final_role})",
                     command=command, config=config_to_dict(cfg), metrics_csv=out / "metrics.csv",
                     notes=ds.notes + (["valence/arousal targets are PROXIES"] if final.va_proxy else []))
    return ev
