"""Teachers for distillation (issue 13): each candidate frame model and their ensemble, scored on FER+ Valid
(plurality label) and each photo set's held-out groups, on the crops the pipeline makes.

Every model's logits are first put in the balanced space (a logit-adjusted or class-sampled mix run as it is; a
model trained on the natural class mix minus log of its training prior), then s * log(mix prior) is added, as
`emotrace ship --prior-shift s` does. The ensemble is the mean of the members' probabilities in that space,
optionally with each member also run on the mirrored face (flip TTA).

    python benchmarks/teachers.py runs/frame-v2 runs/frame-v2-bal-sampler emotrace-cnn-m-ferplus [--flip]

Prints accuracy / UAR / "neutral" share minus true share per set, for each model and the ensemble.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from emotrace.config import config_to_dict
from emotrace.eval.metrics import classification_metrics
from emotrace.train.resolve import load_train_config
from emotrace.train.tasks import create_task
from emotrace.train.tasks.teachers import Teachers


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+", help="run folders, checkpoints or shipped frame-model names")
    ap.add_argument("--config", default="configs/frame-v2.yaml", help="the mix config whose hold-outs are scored")
    ap.add_argument("--shift", type=float, default=0.5, help="s: s * log(mix prior) added (0 = balanced)")
    ap.add_argument("--flip", action="store_true", help="also average each model over the mirrored face")
    args = ap.parse_args()
    task = create_task(load_train_config(args.config))
    task.setup(torch.device("cpu"))
    log_prior = np.log(np.clip(task.prior, 1e-4, None))
    cases = task.scored_sets()
    teachers = Teachers.load(args.models, torch.device("cpu"), task.ferplus_prior, task.natural_mix_prior(),
                             student_config=config_to_dict(task.cfg), flip=args.flip)
    members = {ref: [] for ref in args.models}
    for x, _ in cases.values():
        logp = teachers.log_probs(torch.from_numpy(x).float().div(255)[:, None], per_member=True)
        for ref, lp in zip(args.models, logp, strict=True):
            members[ref].append(lp.numpy())
    rows = {ref: members[ref] for ref in args.models}
    rows["ensemble"] = [np.log(np.mean([np.exp(members[r][i]) for r in args.models], 0))
                        for i in range(len(cases))]
    for who, per_case in rows.items():
        cells = []
        for (n, (_, y)), lp in zip(cases.items(), per_case, strict=True):
            pred = (lp + args.shift * log_prior)[:, :7].argmax(1)
            m = classification_metrics(y, pred, 7)
            gap = 100 * ((pred == 6).mean() - (y == 6).mean())
            cells.append(f"{n} {100 * m['accuracy']:.1f}/{100 * m['uar']:.1f}/{gap:+.0f}")
        print(f"{who:42s} " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
