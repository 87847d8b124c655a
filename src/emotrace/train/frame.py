"""Train the frame CNN on FER+ stills with the vote distribution as a soft target.

Optional heads on the same embedding: FER2013's original labels (`fer2013_head`) and valence/arousal proxies from
the vote distribution, trained with a CCC loss (`va_head`). Checkpoints every epoch (`last.pt`: weights, optimiser,
scheduler, RNG state) so that an interrupted run resumes exactly; keeps `best.pt` by FER+ validation accuracy and
`final.pt` (the last epoch, which is what gets shipped: choosing an epoch on Valid would flatter the Valid numbers).
Every run writes `metrics.csv` and `config.yaml`.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from emotrace.config import config_to_dict
from emotrace.data.proxies import va_from_distribution
from emotrace.data.readers.ferplus import FerPlusSplit, read_split
from emotrace.eval.metrics import classification_metrics, regression_metrics
from emotrace.labels import EMOTIONS
from emotrace.models import create_model
from emotrace.train.augment import random_affine
from emotrace.train.losses import ccc


@dataclass
class FrameTrainConfig:
    """Fields of a frame-model training config (YAML)."""

    data_root: str = "../shared/data/ferplus"
    arch: str = "emotrace-cnn-s"
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    epochs: int = 30
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    label_mode: str = "soft"  # soft (vote distribution) or plurality (one-hot)
    include_contempt: bool = False  # FER+ head over eight classes (contempt last) instead of seven
    fer2013_head: bool = False  # second head on FER2013's original labels
    va_head: bool = False  # valence/arousal head on circumplex proxies, CCC loss
    aux_weight: float = 0.5  # weight of each auxiliary head's loss
    channels_last: bool = False  # faster convolutions on CPU for the wider nets
    augment: bool = True
    seed: int = 0
    threads: int = 2
    out_dir: str = "runs/frame-default"
    max_train: int = 0  # 0 = all; >0 caps the training set (smoke tests)


def _targets(split: FerPlusSplit, cfg: FrameTrainConfig) -> dict[str, np.ndarray]:
    """Per-image targets of every head, with NaN/-1 where an image has none (masked out of that head's loss)."""
    votes = split.class_votes(cfg.include_contempt)
    total = votes.sum(1, keepdims=True)
    if cfg.label_mode == "soft":
        main = np.divide(votes, total, out=np.full_like(votes, np.nan), where=total > 0)
    elif cfg.label_mode == "plurality":
        lab = split.majority_labels()
        main = np.full(votes.shape, np.nan, np.float32)
        main[lab >= 0] = np.eye(votes.shape[1], dtype=np.float32)[lab[lab >= 0]]
    else:
        raise ValueError(f"label_mode must be soft or plurality, not {cfg.label_mode!r}")
    seven = split.soft_labels()
    va = np.where(seven.sum(1, keepdims=True) > 0, va_from_distribution(seven), np.nan).astype(np.float32)
    return {"main": main.astype(np.float32), "fer2013": split.fer2013_labels.astype(np.int64), "va": va}


def _masked_losses(out: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor], cfg: FrameTrainConfig) -> torch.Tensor:
    main_ok = ~torch.isnan(tgt["main"][:, 0])
    loss = -(tgt["main"][main_ok] * F.log_softmax(out["logits"][main_ok], 1)).sum(1).mean() if main_ok.any() \
        else out["logits"].sum() * 0
    if "logits_fer2013" in out:
        ok = tgt["fer2013"] >= 0
        if ok.any():
            loss = loss + cfg.aux_weight * F.cross_entropy(out["logits_fer2013"][ok], tgt["fer2013"][ok])
    if "valence_arousal" in out:
        ok = ~torch.isnan(tgt["va"][:, 0])
        if ok.sum() > 1:
            loss = loss + cfg.aux_weight * (1 - ccc(out["valence_arousal"][ok], tgt["va"][ok])).mean()
    return loss


@torch.no_grad()
def predict_outputs(model: torch.nn.Module, images: np.ndarray, batch: int = 512) -> dict[str, np.ndarray]:
    """Every head's output for uint8 gray images (N, S, S): `probs` and, where the model has them,
    `probs_fer2013` and `valence_arousal`."""
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i:i + batch]).float().div_(255)[:, None]
        out = model(x)
        parts.setdefault("probs", []).append(F.softmax(out["logits"], 1).numpy())
        if "logits_fer2013" in out:
            parts.setdefault("probs_fer2013", []).append(F.softmax(out["logits_fer2013"], 1).numpy())
        if "valence_arousal" in out:
            parts.setdefault("valence_arousal", []).append(out["valence_arousal"].numpy())
    if not parts:
        return {"probs": np.zeros((0, len(EMOTIONS)), np.float32)}
    return {k: np.concatenate(v) for k, v in parts.items()}


def predict_probs(model: torch.nn.Module, images: np.ndarray, batch: int = 512) -> np.ndarray:
    """Main-head class probabilities (N, C) for uint8 gray images (N, S, S)."""
    return predict_outputs(model, images, batch)["probs"]


def evaluate_ferplus(model: torch.nn.Module, split: FerPlusSplit) -> dict[str, Any]:
    """Every FER+ / FER2013 number of one split.

    - `ferplus7`: plurality label over the seven emotions (images won by contempt/unknown/NF left out);
    - `ferplus_majority7` / `ferplus_majority8`: the FERPlus reference majority rule, seven classes or eight with
      contempt (eight only for a model with a contempt output);
    - `fer2013`: FER2013's original labels, scored on the FER2013 head where the model has one, else the main head
      (`fer2013_main_head` then holds the main head's score too);
    - `va`: CCC against the vote-distribution proxies, where the model has a valence/arousal head.
    """
    out = predict_outputs(model, split.images)
    probs = out["probs"]
    pred7 = probs[:, :len(EMOTIONS)].argmax(1)
    res: dict[str, Any] = {}
    maj = split.majority_labels()
    m = maj >= 0
    res["ferplus7"] = classification_metrics(maj[m], pred7[m], len(EMOTIONS))
    ref7 = split.reference_majority(False)
    res["ferplus_majority7"] = classification_metrics(ref7[ref7 >= 0], pred7[ref7 >= 0], len(EMOTIONS))
    if probs.shape[1] > len(EMOTIONS):
        ref8 = split.reference_majority(True)
        pred8 = probs.argmax(1)
        res["ferplus_majority8"] = classification_metrics(ref8[ref8 >= 0], pred8[ref8 >= 0], probs.shape[1])
    fer = split.fer2013_labels
    f = fer >= 0
    if f.any():
        res["fer2013_main_head"] = classification_metrics(fer[f], pred7[f], len(EMOTIONS))
        head = out.get("probs_fer2013")
        res["fer2013"] = (classification_metrics(fer[f], head.argmax(1)[f], len(EMOTIONS)) if head is not None
                          else res["fer2013_main_head"])
    if "valence_arousal" in out:
        seven = split.soft_labels()
        ok = seven.sum(1) > 0
        res["va"] = regression_metrics(out["valence_arousal"][ok], va_from_distribution(seven[ok]))
    return res


def _save_atomic(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train_frame(cfg: FrameTrainConfig, resume: bool = False, log: Any = print) -> dict[str, Any]:
    """Run (or resume) a training; returns the best validation metrics."""
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))

    train_split = read_split(cfg.data_root, "train")
    valid_split = read_split(cfg.data_root, "valid")
    targets = _targets(train_split, cfg)
    usable = ~np.isnan(targets["main"][:, 0]) | (cfg.fer2013_head & (targets["fer2013"] >= 0))
    x_train = train_split.images[usable]
    y_train = {k: v[usable] for k, v in targets.items()}
    if cfg.max_train:
        x_train, y_train = x_train[:cfg.max_train], {k: v[:cfg.max_train] for k, v in y_train.items()}
    log(f"train images {len(x_train)}, valid images {len(valid_split)}")

    torch.manual_seed(cfg.seed)
    model = create_model(cfg.arch, **cfg.arch_kwargs)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = (len(x_train) + cfg.batch_size - 1) // cfg.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, epochs=cfg.epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.15)
    gen = torch.Generator().manual_seed(cfg.seed)
    start_epoch, best = 0, {"epoch": -1, "ferplus7_acc": -1.0}
    last = out / "last.pt"
    if resume and last.is_file():
        ck = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])  # dropout draws from the global generator
        start_epoch, best = ck["epoch"] + 1, ck["best"]
        log(f"resumed after epoch {ck['epoch']}")

    xt = torch.from_numpy(x_train)
    yt = {k: torch.from_numpy(v) for k, v in y_train.items()}
    metrics_path = out / "metrics.csv"
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(xt), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, len(perm), cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            x = xt[idx].float().div_(255)[:, None]
            if cfg.augment:
                x = random_affine(x, gen)
            out_b = model(x.contiguous(memory_format=fmt))
            loss = _masked_losses(out_b, {k: v[idx] for k, v in yt.items()}, cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        secs = time.perf_counter() - t0
        ev = evaluate_ferplus(model, valid_split)
        acc = ev["ferplus7"]["accuracy"]
        row = {"epoch": epoch, "train_loss": total / seen, "valid_ferplus7_acc": acc,
               "valid_ferplus7_uar": ev["ferplus7"]["uar"],
               "valid_ferplus_majority7_acc": ev["ferplus_majority7"]["accuracy"],
               "valid_ferplus_majority8_acc": ev.get("ferplus_majority8", {}).get("accuracy", float("nan")),
               "valid_fer2013_acc": ev.get("fer2013", {}).get("accuracy", float("nan")),
               "valid_va_mean_ccc": ev.get("va", {}).get("mean_ccc", float("nan")),
               "images_per_s": seen / secs, "lr": sched.get_last_lr()[0]}
        new_file = not metrics_path.is_file() or epoch == 0
        with open(metrics_path, "w" if epoch == 0 else "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(row))
            if new_file:
                w.writeheader()
            w.writerow(row)
        if acc > best["ferplus7_acc"]:
            best = {"epoch": epoch, "ferplus7_acc": acc, "fer2013_acc": row["valid_fer2013_acc"]}
            _save_atomic(model.state_dict(), out / "best.pt")
        _save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                      "gen": gen.get_state(), "torch_rng": torch.get_rng_state(), "epoch": epoch, "best": best}, last)
        if epoch == cfg.epochs - 1:
            _save_atomic(model.state_dict(), out / "final.pt")
        log(f"epoch {epoch + 1}/{cfg.epochs} loss {row['train_loss']:.4f} ferplus7 {acc:.4f} "
            f"fer2013 {row['valid_fer2013_acc']:.4f} ({row['images_per_s']:.0f} img/s)")
    return best


def main(argv: list[str] | None = None) -> None:
    """`python -m emotrace.train.frame CONFIG [--resume]`."""
    import argparse

    from emotrace.config import load_config

    ap = argparse.ArgumentParser(prog="python -m emotrace.train.frame")
    ap.add_argument("config")
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args(argv)
    print(train_frame(load_config(FrameTrainConfig, args.config), resume=args.resume), flush=True)


if __name__ == "__main__":
    main()
