"""Every seed row at the seed's own budget, on one GPU, in one command: the day a GPU is lent, the seed table is
one run of this script.

Each row is one engine run (`emotrace.train.engine.train`) of its config with the GPU overrides: device cuda,
bf16 autocast, training arrays resident on the GPU (`data_on_device`: batches are indexed and augmented there),
more threads for the one-off data reading. Run folders (checkpoints, metrics.csv, metrics.json, report) land
under OUT/<row>; a row already finished is skipped and one cut off resumes from its `last.pt`, so a killed
script goes on where it stopped. OUT/summary.json gathers the headline numbers and seconds per row.

    python benchmarks/seeds_gpu.py --out "$OUT"                     # every row, full budget (GPU)
    python benchmarks/seeds_gpu.py --out "$OUT" --only seed4-cnn-ckplus
    python benchmarks/seeds_gpu.py --out /tmp/seeds --tiny          # CPU smoke: a few rows per run, seconds

Rows train one fold / one split each (the table's protocol); `--fold` picks another CK+ fold.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# (row id, config, overrides at the seed's budget). Every config holds the seed's epochs, batch and optimiser.
ROWS: list[tuple[str, str, dict[str, Any]]] = [
    ("seed4-cnn-ckplus", "configs/seed4-cnn-ckplus.yaml", {}),
    ("seed3-cnn-lstm-fer2013", "configs/seed3-cnn-lstm.yaml", {}),
    ("seed3-cnn-fer2013", "configs/seed3-cnn.yaml", {}),
    ("seed3-td-ckplus", "configs/seed3-cnn-lstm-td.yaml", {}),
    ("seed2-ckplus", "configs/seed2-cnn-lstm.yaml", {}),
    ("seed1-ckplus", "configs/seed1-conv3d-lstm.yaml", {}),
    ("seed4-cnn-va", "configs/seed4-cnn-va.yaml", {}),
]

GPU = {"device": "cuda", "amp": True, "data_on_device": True, "threads": 8, "checkpoint_every": 200}
TINY = {"device": "cpu", "epochs": 1, "max_train": 8, "max_eval": 8, "batch_size": 4, "threads": 1,
        "checkpoint_every": 0}


def overrides(row_over: dict[str, Any], out: Path, tiny: bool, fold: int | None) -> dict[str, Any]:
    """The row's overrides plus the machine's (GPU, or the tiny CPU smoke) and its run folder."""
    over: dict[str, Any] = {**row_over, **(TINY if tiny else GPU), "out_dir": str(out)}
    if fold is not None:
        over["fold"] = fold
    return over


def run_row(row_id: str, config: str, over: dict[str, Any]) -> dict[str, Any]:
    """Train (or resume, or reuse) one row; its headline numbers and wall seconds."""
    from emotrace.train.engine import train
    from emotrace.train.resolve import load_train_config

    out = Path(over["out_dir"])
    done = out / "metrics.json"
    t0 = time.perf_counter()
    if not done.is_file():
        cfg = load_train_config(ROOT / config, over)
        cfg.data = str(ROOT / cfg.data)  # configs name data relative to the repository root
        train(cfg, resume=True, command=f"benchmarks/seeds_gpu.py --only {row_id}")
    m = json.loads(done.read_text())
    keys = ("accuracy", "uar", "ccc", "ccc_valence", "ccc_arousal", "n", "rows", "split")
    return {"row": row_id, "config": config, **{k: m[k] for k in keys if k in m},
            "epochs_done": m.get("run", {}).get("epochs_done"), "best_epoch": m.get("run", {}).get("best_epoch"),
            "device": m.get("run", {}).get("device"), "seconds": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder for the run folders and summary.json (e.g. $OUT)")
    ap.add_argument("--only", nargs="*", help="row ids (default: all)")
    ap.add_argument("--tiny", action="store_true", help="CPU smoke at a tiny size (tests)")
    ap.add_argument("--fold", type=int, default=None, help="CK+ fold for the k-fold rows")
    args = ap.parse_args(argv)
    rows = [r for r in ROWS if not args.only or r[0] in args.only]
    unknown = set(args.only or ()) - {r[0] for r in ROWS}
    if unknown:
        ap.error(f"unknown rows: {', '.join(sorted(unknown))}")
    if not args.tiny:
        import torch

        if not torch.cuda.is_available():
            print("no CUDA GPU here: use --tiny for the CPU smoke", file=sys.stderr)
            return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = []
    for row_id, config, row_over in rows:
        res = run_row(row_id, config, overrides(row_over, out / row_id, args.tiny, args.fold))
        summary.append(res)
        print(json.dumps(res), flush=True)
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
