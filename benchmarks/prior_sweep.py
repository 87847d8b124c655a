"""The balancing sweep of docs/benchmarks.md (frame model v2): a mix run's final model with s * log(training prior)
added to its logits, s from 0 (the logit-adjusted model as trained) to 1 (prior-weighted), scored on FER+ Valid
(plurality label) and each photo set's held-out groups, on the model's own crops.

    python benchmarks/prior_sweep.py runs/frame-v2 [--config configs/frame-v2.yaml]

Prints accuracy / UAR / "neutral" share minus true share per set and s.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from emotrace.eval.metrics import classification_metrics
from emotrace.models.checkpoint import load_model
from emotrace.models.outputs import predict_heads
from emotrace.train.resolve import load_train_config
from emotrace.train.tasks import create_task


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", help="a mix training run folder (or checkpoint)")
    ap.add_argument("--config", default="configs/frame-v2.yaml")
    ap.add_argument("--shifts", type=float, nargs="*", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    args = ap.parse_args()
    model = load_model(args.run).model
    task = create_task(load_train_config(args.config))
    task.setup(torch.device("cpu"))  # the prior and the held-out groups, as the run had them
    log_prior = np.log(np.clip(task.prior, 1e-4, None))
    cases = task.scored_sets()
    logits = {n: predict_heads(model, x, logits=True)["logits"] for n, (x, _) in cases.items()}
    for s in args.shifts:
        row = []
        for n, (_, y) in cases.items():
            pred = (logits[n] + s * log_prior)[:, :7].argmax(1)
            m = classification_metrics(y, pred, 7)
            gap = 100 * ((pred == 6).mean() - (y == 6).mean())
            row.append(f"{n} {100 * m['accuracy']:.1f}% / {100 * m['uar']:.1f}% / {gap:+.0f}")
        print(f"s {s:g}: " + " | ".join(row))


if __name__ == "__main__":
    main()
