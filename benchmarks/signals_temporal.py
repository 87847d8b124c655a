"""Do face signals help the temporal model? (issue 26 item 4, seed 1's proposal: action units stacked with the
CNN features before the LSTM.) Two temporal models trained alike, one on the frame model's embeddings, one on the
embeddings with each frame's face signals beside them (`--set signals=true`), compared where issue 26 asks.

    PYTHONPATH=src python benchmarks/signals_temporal.py [--config configs/temporal-gru.yaml]
        [--ferplus-sequences 500] [--ckplus-clips 3] [--folds 0,1,2] [--out-dir /tmp/signals-temporal]
        [--results benchmarks/results/signals_temporal.json] [--jobs 2]

Every run is `emotrace train CONFIG` with the same seed, sizes, feature cache and schedule; the only change is
`signals`. The runs on every CK+ subject (fold -1) are scored on the rendered FER+ Valid sequences (per-frame
accuracy, label changes per second, frames to follow a change); the fold runs on their held-out CK+ subjects'
test clips (the label at the clip's last frame). Runs already in --out-dir are reused (the script resumes);
--jobs runs that many trainings at once, one thread each.
The signals are read on every rendered frame (48 px faces, about 13 ms each on one core), so the first run costs
most of the time; the feature cache is shared by both variants. A model with signals cannot run on the shared
videos: the pipeline does not feed signals to a temporal model (it refuses one), so there is no flicker row.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def train(config: str, out: Path, sets: dict[str, Any]) -> dict[str, Any]:
    """`emotrace train config` into `out` (skipped where `out` already holds a finished run); its metrics."""
    if not (out / "metrics.json").is_file():
        cmd = [sys.executable, "-m", "emotrace.cli", "-q", "train", config, "--out-dir", str(out)]
        for key, value in sets.items():
            cmd += ["--set", f"{key}={value}"]
        print("+", " ".join(cmd[2:]), flush=True)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=REPO)
        print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
    return json.loads((out / "metrics.json").read_text())


def paired_ferplus(out: Path, ferplus_sequences: int) -> dict[str, Any]:
    """The two every-subject runs on the same FER+ Valid sequences: per-sequence frame accuracy, paired (the
    frames of a sequence are not independent, the sequences are)."""
    import numpy as np

    from emotrace.eval.sequence_features import SequenceFeatures, run_sequences
    from emotrace.models.checkpoint import load_model

    feats = SequenceFeatures.load(next((out / "features").glob("ferplus-valid-*x*[0-9].npz")))
    signals = np.load(next((out / "features").glob("ferplus-valid-*-signals.npz")))["signals"]
    acc = {}
    for variant, with_signals in (("embedding", False), ("embedding+signals", True)):
        feats.signals = signals if with_signals else None
        probs = run_sequences(load_model(out / variant / "fold-1").model.cpu(), feats)["probs"]
        right = (probs.argmax(-1) == feats.labels) & feats.mask
        acc[variant] = right.sum(1) / feats.mask.sum(1)
    d = acc["embedding+signals"] - acc["embedding"]
    return {"sequences": len(d), "mean_difference": float(d.mean()),
            "standard_error": float(d.std(ddof=1) / np.sqrt(len(d))), "better": int((d > 0).sum()),
            "worse": int((d < 0).sum()), "equal": int((d == 0).sum())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/temporal-gru.yaml")
    ap.add_argument("--ferplus-sequences", type=int, default=500)
    ap.add_argument("--ckplus-clips", type=int, default=3)
    ap.add_argument("--folds", default="0,1,2")
    ap.add_argument("--out-dir", default="/tmp/signals-temporal")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "signals_temporal.json"))
    args = ap.parse_args()
    out = Path(args.out_dir)
    folds = [-1] + [int(f) for f in args.folds.split(",") if f]
    base = {"ferplus_sequences": args.ferplus_sequences, "ckplus_clips_per_subject": args.ckplus_clips,
            "feature_cache": out / "features", "threads": 1 if args.jobs > 1 else 2}
    variants = (("embedding", "false"), ("embedding+signals", "true"))
    jobs = [(out / v / f"fold{f}", {**base, "signals": s, "fold": f}) for f in folds for v, s in variants]
    if not any((out / "features").glob("*-signals.npz")):  # the first run alone builds the cache the others read
        train(args.config, *jobs[1])
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(lambda job: train(args.config, *job), jobs))
    rows: dict[str, dict[str, Any]] = {}
    for variant, _ in variants:
        per_fold = {f: json.loads((out / variant / f"fold{f}" / "metrics.json").read_text()) for f in folds}
        syn = per_fold[-1]["ferplus_valid_synthetic"]
        held = [per_fold[f]["ckplus_held_out"] for f in folds if f >= 0]
        n = sum(h["sequences"] for h in held)
        rows[variant] = {
            "ferplus_valid_frame_accuracy": syn["temporal"]["frame_accuracy"],
            "ferplus_valid_label_changes_per_s": syn["temporal"]["label_changes_per_s"],
            "ferplus_valid_median_frames_to_follow": syn["temporal"]["median_frames_to_follow"],
            "frame_model_frame_accuracy": syn["frame"]["frame_accuracy"],
            "frame_model_label_changes_per_s": syn["frame"]["label_changes_per_s"],
            "va_proxy_mean_ccc": syn.get("va_proxy", {}).get("mean_ccc"),
            "ckplus_held_out_clips": n,
            "ckplus_held_out_last_frame_accuracy":
                sum(h["temporal_last_frame_accuracy"] * h["sequences"] for h in held) / max(n, 1),
            "ckplus_frame_model_last_frame_accuracy":
                sum(h["frame_last_frame_accuracy"] * h["sequences"] for h in held) / max(n, 1),
        }
    print(f"\n{args.config}, FER+ {args.ferplus_sequences} sequences, CK+ {args.ckplus_clips} clips a subject; "
          f"CK+ folds {folds[1:]}")
    keys = list(rows["embedding"])
    print(f"{'':44s} {'embedding':>12s} {'+ signals':>12s}")
    for k in keys:
        a, b = rows["embedding"][k], rows["embedding+signals"][k]
        print(f"{k:44s} {a:12.4f} {b:12.4f}" if isinstance(a, float) else f"{k:44s} {a!s:>12s} {b!s:>12s}")
    paired = paired_ferplus(out, args.ferplus_sequences)
    print(f"FER+ Valid, paired over its {paired['sequences']} sequences: + signals minus embedding, per-sequence "
          f"frame accuracy {paired['mean_difference']:+.4f} (standard error {paired['standard_error']:.4f}); "
          f"better on {paired['better']}, worse on {paired['worse']}, equal on {paired['equal']}")
    from emotrace.provenance import git_commit

    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    record = {"command": " ".join(sys.argv), "commit": git_commit(), "config": args.config, "folds": folds,
              "rows": rows, "paired_ferplus_valid": paired}
    Path(args.results).write_text(json.dumps(record, indent=2))
    print(f"results: {args.results}")


if __name__ == "__main__":
    main()
