"""The large-teacher recipe (issue 23), in two steps on two machines.

1. Where ../shared is (the CPU), build the compact training cache, the student's own training rows in uint8:

       python scripts/gpu_teacher.py cache                     # -> .cache/teacher/train.npz (git-ignored)

2. On a lent GPU, with that folder carried (`run` tool: carry [".cache/teacher"]), train the teacher and write its
   weights and soft labels (each file under 16 MiB, four files):

       python scripts/gpu_teacher.py train --out $OUT          # about 5.5 M parameters at 112 px, under 8 min

Then distil on the CPU: put the files in runs/gpu-teacher/ and `emotrace train configs/frame-v3-distill.yaml`.
The teacher alone is scored like any frame model: `emotrace evaluate runs/gpu-teacher/teacher.pt
../shared/data/ferplus`, and `... ../shared/data/tfeid --photos --split holdout` (`--runtime torch` implied).
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from emotrace.train.teacher_cache import DEFAULT_CACHE, build_cache, load_cache


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
    from emotrace.train.gpu_teacher import train_teacher

    info = train_teacher(load_cache(args.cache), args.out, torch.device(args.device), json.loads(args.arch_kwargs),
                         epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, max_minutes=args.max_minutes,
                         seed=args.seed)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
