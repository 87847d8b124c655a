"""Does seed 3 leave the class prior at a given Adam rate? 600 steps of batch 20 on 6,000 FER2013 faces.

The probe behind docs/benchmarks.md ("Seed 3 on FER2013"): at Keras' default 0.001 the CNN-LSTM stays at the prior
(its LSTM saturates), at 0.0003 it leaves it; the CNN without the LSTM leaves it at 0.001. No augmentation, so the
start alone is compared; validation accuracy on 1,500 FER+ Valid faces (FER2013 labels) every 150 steps.

    python benchmarks/seed3_rate_probe.py lstm 0.001        # also: cnn, lstm-fbias (forget-gate bias 1, as
    python benchmarks/seed3_rate_probe.py lstm 0.0003       #   Keras), lstm-default (PyTorch's initialisation)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
VARIANTS = ("lstm", "cnn", "lstm-fbias", "lstm-default")


def build(variant: str) -> torch.nn.Module:
    from emotrace.models import create_model

    torch.manual_seed(0)
    model = create_model("seed3-cnn" if variant == "cnn" else "seed3-cnn-lstm", num_classes=7)
    if variant == "lstm-fbias":
        with torch.no_grad():
            model.lstm.bias_ih_l0[64:128] = 1.0  # PyTorch's gate order: input, forget, cell, output
    elif variant == "lstm-default":
        for m in model.modules():
            if m is not model and hasattr(m, "reset_parameters"):
                m.reset_parameters()
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variant", choices=VARIANTS)
    ap.add_argument("lr", type=float)
    ap.add_argument("--steps", type=int, default=600)
    args = ap.parse_args()

    from emotrace.train.resolve import load_train_config
    from emotrace.train.tasks import create_task

    torch.set_num_threads(2)
    cfg = load_train_config(ROOT / "configs" / "seed3-cnn-lstm.yaml", {"max_train": 6000, "augment": False})
    task = create_task(cfg)
    task.setup(torch.device("cpu"))
    x, y = torch.from_numpy(task.train.x).float() / 255, torch.from_numpy(task.train.y).long()
    valid = task.eval_arrays["valid"]
    xv, yv = torch.from_numpy(valid.x[:1500]).float() / 255, torch.from_numpy(valid.y[:1500]).long()
    model = build(args.variant)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(0)
    losses: list[float] = []
    start = time.time()
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, len(x), (20,), generator=gen)
        model.train()
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 150 == 0:
            model.eval()
            with torch.no_grad():
                acc = (model(xv).argmax(1) == yv).float().mean().item()
            print(f"{args.variant} lr {args.lr:g} step {step}: loss {np.mean(losses[-150:]):.3f}, "
                  f"validation accuracy {acc:.3f} ({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
