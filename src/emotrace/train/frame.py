"""Train the frame CNN on FER+ stills with the vote distribution as a soft target.

Checkpoints every epoch (`last.pt`: weights, optimiser, scheduler, RNG state) so that an interrupted run resumes
exactly, and keeps `best.pt` by FER+ validation accuracy. Every run writes `metrics.csv` and `config.yaml`.
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
from emotrace.data.readers.ferplus import FerPlusSplit, read_split
from emotrace.eval.metrics import classification_metrics
from emotrace.labels import EMOTIONS
from emotrace.models import create_model
from emotrace.train.augment import random_affine


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
    augment: bool = True
    seed: int = 0
    threads: int = 2
    out_dir: str = "runs/frame-default"
    max_train: int = 0  # 0 = all; >0 caps the training set (smoke tests)


def _select_train(split: FerPlusSplit, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Images whose plurality label is one of the seven emotions, with their targets (N, 7)."""
    keep = split.majority_labels() >= 0
    if mode == "soft":
        target = split.soft_labels()
    elif mode == "plurality":
        target = np.eye(len(EMOTIONS), dtype=np.float32)[np.clip(split.majority_labels(), 0, None)]
    else:
        raise ValueError(f"label_mode must be soft or plurality, not {mode!r}")
    return split.images[keep], target[keep].astype(np.float32)


@torch.no_grad()
def predict_probs(model: torch.nn.Module, images: np.ndarray, batch: int = 512) -> np.ndarray:
    """Class probabilities (N, C) for uint8 gray images (N, S, S)."""
    model.eval()
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i:i + batch]).float().div_(255)[:, None]
        out.append(F.softmax(model(x)["logits"], 1).numpy())
    return np.concatenate(out) if out else np.zeros((0, len(EMOTIONS)), np.float32)


def evaluate_ferplus(model: torch.nn.Module, split: FerPlusSplit) -> dict[str, Any]:
    """FER+ plurality accuracy over the seven emotions and FER2013 original-label accuracy, on one split."""
    probs = predict_probs(model, split.images)
    pred = probs.argmax(1)
    maj = split.majority_labels()
    m = maj >= 0
    res = {"ferplus7": classification_metrics(maj[m], pred[m], len(EMOTIONS))}
    fer = split.fer2013_labels
    f = fer >= 0
    if f.any():
        res["fer2013"] = classification_metrics(fer[f], pred[f], len(EMOTIONS))
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
    x_train, y_train = _select_train(train_split, cfg.label_mode)
    if cfg.max_train:
        x_train, y_train = x_train[:cfg.max_train], y_train[:cfg.max_train]
    log(f"train images {len(x_train)}, valid images {len(valid_split)}")

    torch.manual_seed(cfg.seed)
    model = create_model(cfg.arch, **cfg.arch_kwargs)
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
    yt = torch.from_numpy(y_train)
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
            logits = model(x)["logits"]
            loss = -(yt[idx] * F.log_softmax(logits, 1)).sum(1).mean()
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
               "valid_fer2013_acc": ev.get("fer2013", {}).get("accuracy", float("nan")),
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
