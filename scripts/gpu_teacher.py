"""The large-teacher recipe (issue 23), in two steps on two machines.

1. Where ../shared is (the CPU), build the compact training cache, the student's own training rows in uint8:

       python scripts/gpu_teacher.py cache                     # -> .cache/teacher/train.npz (git-ignored)

2. On a lent GPU, with that folder carried (`run` tool: carry [".cache/teacher"]), train the teacher and write its
   weights and soft labels (each file under 16 MiB, four files):

       python scripts/gpu_teacher.py train --out $OUT          # about 5.5 M parameters at 112 px, under 8 min

Then distil on the CPU: put the files in runs/gpu-teacher/ and `emotrace train configs/frame-v3-distill.yaml`.
The teacher alone is scored like any frame model: `emotrace evaluate runs/gpu-teacher/teacher.pt
../shared/data/ferplus`, and `... ../shared/data/tfeid --photos --split holdout` (`--runtime torch` implied).

The training loop lives here, in the recipe, not in the package: `emotrace train`'s engine is the package's one
training loop (tests/train/test_engine.py), and this one exists for what the engine does not do, a run with every
row resident on one GPU in bf16 under a wall-clock budget. Its details:

Train the large frame teacher on a GPU in minutes, then write what the CPU student needs from it.

Everything stays on the device: the cache's uint8 images and targets are copied there once, the rows of each step
are drawn there (the mix's dataset shares, as the student draws them), and the v2 augmentation (`strong_augment`)
runs there on the batch; only its small parameter vectors come from a CPU generator. bf16 autocast and
channels-last on CUDA. The objective is the student's: soft targets, logit adjustment by the training draw's prior
(so the plain logits written are in the balanced space the distillation path expects), label smoothing, weight
EMA. A wall-clock budget ends training early and still writes everything.

Outputs (each far under 16 MiB): `teacher.pt` (an `emotrace train` checkpoint in float16: `emotrace evaluate`, the
photo-set evaluation and `teachers:` read it), `soft_labels.npz` (the EMA teacher's balanced logits for every
training row, mean of the face and its mirror), `log.csv` and `info.json`.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from emotrace.models.checkpoint import model_checkpoint, save_atomic
from emotrace.models.contract import contract_of
from emotrace.train.augment import strong_augment
from emotrace.train.soft_labels import write_soft_labels
from emotrace.train.teacher_cache import DEFAULT_CACHE, TeacherCache, build_cache, load_cache

ARCH = "emotrace-resnet-t"


def x_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _layout(device: torch.device) -> torch.memory_format:
    """Channels-last on CUDA (tensor cores); on a CPU oneDNN crashed on the test's 4-channel toy net with it."""
    return torch.channels_last if device.type == "cuda" else torch.contiguous_format


def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
            if e.is_floating_point():
                e.lerp_(p, 1 - decay)
            else:
                e.copy_(p)


@torch.no_grad()
def predict_logits(model: torch.nn.Module, images: torch.Tensor, batch: int = 1024, flip: bool = True
                   ) -> torch.Tensor:
    """Plain logits of uint8 images (N, S, S) on the model's device, averaged with the mirror's (`flip`)."""
    model.eval()
    out = []
    for i in range(0, len(images), batch):
        x = images[i:i + batch].float().div_(255)[:, None].contiguous(memory_format=_layout(x_device(model)))
        with torch.autocast(x.device.type, torch.bfloat16, enabled=x.device.type == "cuda"):
            z = model(x)["logits"].float()
            if flip:
                z = (z + model(x.flip(-1))["logits"].float()) / 2
        out.append(z)
    return torch.cat(out)


def train_teacher(cache: TeacherCache, out: str | Path, device: torch.device, arch_kwargs: dict[str, Any],
                  epochs: int = 40, batch_size: int = 512, lr: float = 2e-3, weight_decay: float = 0.05,
                  label_smoothing: float = 0.05, ema_decay: float = 0.999, max_minutes: float = 7.0,
                  seed: int = 0) -> dict[str, Any]:
    """Train on every cache row, write the outputs to `out`, return what info.json records."""
    from emotrace.models.factory import create_model

    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    x = torch.from_numpy(cache.images).to(device)
    target = torch.from_numpy(np.nan_to_num(cache.targets, nan=0.0)).to(device)
    has_target = torch.from_numpy(~np.isnan(cache.targets[:, 0])).to(device)
    weights = torch.from_numpy(cache.weights * ~np.isnan(cache.targets[:, 0])).double().to(device)
    log_prior = torch.log(torch.from_numpy(cache.prior).float().clamp_min(1e-4)).to(device)
    valid_x = torch.from_numpy(cache.valid_images).to(device)
    valid_y = torch.from_numpy(cache.valid_labels).to(device)
    kwargs = {**arch_kwargs, "num_classes": len(cache.classes)}
    layout = _layout(device)
    model = create_model(ARCH, **kwargs).to(device).to(memory_format=layout)
    ema = create_model(ARCH, **kwargs).to(device).to(memory_format=layout)
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = max(1, int(has_target.sum()) // batch_size)
    total = epochs * steps_per_epoch
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total))))
    log_rows, step, epochs_done, stopped = [], 0, 0, ""
    for epoch in range(epochs):
        model.train()
        t0, seen, loss_sum = time.perf_counter(), 0, torch.zeros((), device=device)
        for _ in range(steps_per_epoch):
            idx = torch.multinomial(weights, batch_size, replacement=True)
            xb = strong_augment(x[idx].float().div_(255)[:, None], gen).contiguous(memory_format=layout)
            tb = target[idx] * (1 - label_smoothing) + label_smoothing / target.shape[1]
            with torch.autocast(device.type, torch.bfloat16, enabled=cuda):
                logits = model(xb)["logits"].float() + log_prior
            loss = -(tb * F.log_softmax(logits, 1)).sum(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            _ema_update(ema, model, ema_decay if step > warm else 0.0)
            loss_sum += loss.detach()
            seen += batch_size
            step += 1
        epochs_done = epoch + 1
        ok = valid_y >= 0
        pred = predict_logits(ema, valid_x[ok], flip=False).argmax(1)
        row = {"epoch": epochs_done, "loss": float(loss_sum) / steps_per_epoch,
               "ferplus_valid_plurality_acc_ema": float((pred == valid_y[ok]).float().mean()),
               "images_per_s": seen / (time.perf_counter() - t0), "elapsed_s": time.perf_counter() - start}
        log_rows.append(row)
        print(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)
        if (time.perf_counter() - start) / 60 * (epochs_done + 1) / epochs_done > max_minutes:
            stopped = f"stopped after epoch {epochs_done}: the next would pass {max_minutes} min"
            break
    return _write(out, cache, ema, kwargs, x, log_rows, {
        "epochs": epochs, "epochs_done": epochs_done, "stopped": stopped, "batch_size": batch_size, "lr": lr,
        "weight_decay": weight_decay, "label_smoothing": label_smoothing, "ema_decay": ema_decay, "seed": seed,
        "device": torch.cuda.get_device_name(device) if cuda else str(device), "rows": len(cache),
        "train_seconds": time.perf_counter() - start})


def _write(out: Path, cache: TeacherCache, ema: torch.nn.Module, kwargs: dict[str, Any], x: torch.Tensor,
           log_rows: list[dict[str, Any]], info: dict[str, Any]) -> dict[str, Any]:
    """teacher.pt (float16 state, the student's mix config with balance logit_adjust), soft_labels.npz, log, info."""
    logits = predict_logits(ema, x).cpu().numpy()
    write_soft_labels(out / "soft_labels.npz", cache.keys, logits, cache.classes)
    ema = ema.float().cpu().eval()
    contract = contract_of(ema, cache.classes, ["logits", "embedding"], alignment="FER template (emotrace.faces.align)")
    config = {**cache.config, "task": "mix", "arch": ARCH, "arch_kwargs": kwargs, "balance": "logit_adjust",
              "la_tau": 1.0, "teachers": [], "teacher_labels": "", "init_from": ""}
    ck = model_checkpoint(ema, "mix", ARCH, kwargs, contract, config, info["epochs_done"])
    ck["state_dict"] = {k: v.half() if v.is_floating_point() else v for k, v in ck["state_dict"].items()}
    save_atomic(ck, out / "teacher.pt")
    with open(out / "log.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(log_rows[0]) if log_rows else ["epoch"])
        w.writeheader()
        w.writerows(log_rows)
    info = {**info, "arch": ARCH, "arch_kwargs": kwargs, "classes": list(cache.classes),
            "files": ["teacher.pt", "soft_labels.npz", "log.csv", "info.json"]}
    (out / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cache", help="build the training cache from a mix config (needs ../shared)")
    c.add_argument("--config", default="configs/frame-v2.yaml", help="the mix config whose training rows to take")
    c.add_argument("--out", default=str(DEFAULT_CACHE))
    c.add_argument("--max-train", type=int, default=0, help="first rows of each dataset only (tests)")
    t = sub.add_parser("train", help="train the teacher on the cache; writes teacher.pt and soft_labels.npz")
    t.add_argument("--cache", default=str(DEFAULT_CACHE))
    t.add_argument("--out", required=True)
    t.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--batch-size", type=int, default=512)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--max-minutes", type=float, default=7.0, help="wall-clock budget; training stops before it")
    t.add_argument("--arch-kwargs", default="{}", help='JSON, e.g. \'{"widths": [8, 8, 8, 8], "work_size": 48}\'')
    t.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.cmd == "cache":
        path = build_cache(args.config, args.out, {"max_train": args.max_train} if args.max_train else None)
        cache = load_cache(path)
        print(f"wrote {path}: {len(cache)} training rows, {len(cache.valid_images)} FER+ Valid images, "
              f"{path.stat().st_size / 2**20:.1f} MiB")
        return 0
    info = train_teacher(load_cache(args.cache), args.out, torch.device(args.device), json.loads(args.arch_kwargs),
                         epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, max_minutes=args.max_minutes,
                         seed=args.seed)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
