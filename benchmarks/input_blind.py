"""Is a seed 3 run input-blind? How much each stage of its output varies across real validation faces.

A run that sits on the class prior (validation accuracy = the majority class, UAR 1/C) either has not left the
prior yet or cannot any more. The second shows here: a stage whose output is the same for every face (its standard
deviation across faces near 0) passes no gradient back, so the layers before it stop learning. Seed 3's LSTM at
Adam 0.001 on FER2013 is such a case (docs/benchmarks.md, issue 27).

    python benchmarks/input_blind.py RUN [RUN ...] [--faces 512] [--checkpoint last.pt]

Prints, per run, the mean over units of the standard deviation across the run's validation faces after the CNN
trunk, the recurrent layer (where there is one), the dense layer and the logits, and the share of trunk and dense
units that are active (> 0) for at least one face.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def stage_spread(model: torch.nn.Module, x: torch.Tensor) -> dict[str, float]:
    """Std across the faces of `x` (mean over units) after each stage of a seed 3 style model."""
    out: dict[str, float] = {}
    with torch.no_grad():
        trunk = model.cnn(x)
        out["trunk_std"] = float(trunk.std(0).mean())
        out["trunk_active"] = float((trunk > 0).any(0).float().mean())
        if getattr(model, "lstm", None) is not None:
            seq, _ = model.lstm(trunk[:, None])
            hidden = seq[:, -1]
            out["recurrent_std"] = float(hidden.std(0).mean())
        else:
            hidden = trunk
        dense = model.dense(hidden)
        out["dense_std"] = float(dense.std(0).mean())
        out["dense_active"] = float((dense > 0).any(0).float().mean())
        out["logit_std"] = float(model.head(dense).std(0).mean())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--faces", type=int, default=512)
    ap.add_argument("--checkpoint", default="last.pt", help="file in the run folder (last.pt, best.pt, final.pt)")
    args = ap.parse_args()

    from emotrace.models import create_model
    from emotrace.train.resolve import load_train_config
    from emotrace.train.tasks import create_task

    torch.set_num_threads(2)
    for run in map(Path, args.runs):
        cfg = load_train_config(run / "config.yaml", {"max_eval": args.faces})
        task = create_task(cfg)
        task.setup(torch.device("cpu"))
        valid = task.eval_arrays["valid"]
        x = torch.from_numpy(valid.x[: args.faces]).float().div_(255)
        ck = torch.load(run / args.checkpoint, map_location="cpu", weights_only=False)
        model = create_model(cfg.arch, **(cfg.arch_kwargs or {}))
        model.load_state_dict(ck["model"])
        model.eval()
        epoch = ck.get("state", {}).get("epoch", "?")
        cells = ", ".join(f"{k} {v:.3g}" for k, v in stage_spread(model, x).items())
        print(f"{run} ({args.checkpoint}, epoch {epoch}, {len(x)} validation faces): {cells}")


if __name__ == "__main__":
    main()
