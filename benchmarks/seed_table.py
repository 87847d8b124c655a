"""The seed table: each seed's reported number next to what its architecture scores here on the closest data.

Every row is one `emotrace train` run on the training engine (its report, command, config and commit land in its
out_dir); runs already finished are reused, so an interrupted table resumes. Budgets are cut to fit a 2-core
CPU and each row says how.

    python benchmarks/seed_table.py            # runs what is missing, then prints the Markdown table
    python benchmarks/seed_table.py --print    # only prints the table from finished runs
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "seed-table"

# (row id, seed claim, config, extra CLI args, what the run measures, budget note)
ROWS = [
    ("seed1-ckplus", "seed 1: 78.52% on CREMA-D (6-layer 3D-conv + LSTM, 75-frame clips); 63.35% on RAVDESS",
     "configs/seed1-conv3d-lstm.yaml", ["--epochs", "5"],
     "CK+48 sequences as 75-frame clips, subject fold 0 of 10, accuracy", "5 of 75 epochs, fold 0 only"),
    ("seed2-ckplus", "seed 2: CNN-LSTM vs CNN on FER2013: better recall and F1, accuracy on par (no figure given)",
     "configs/seed2-cnn-lstm.yaml", ["--epochs", "15"],
     "CK+48 4-frame sequences, subject fold 0 of 10, accuracy", "15 of 40 epochs, fold 0 only"),
    ("seed3-fer2013",
     "seed 3: ~86% test (~92% train) on a FER2013 + CK+ mix; table: CNN-LSTM 92.07% vs 5-layer CNN 67.69%",
     "configs/seed3-cnn-lstm.yaml", ["--epochs", "2", "--max-train", "6000"],
     "FER2013 original labels, FER2013 PublicTest (= FER+ Valid), accuracy",
     "2 of 75 epochs on 6,000 of 28,709 training images"),
    ("seed3-td-ckplus", "seed 3: time-distributed CNN-LSTM over frame sequences",
     "configs/seed3-cnn-lstm-td.yaml", ["--epochs", "10"],
     "CK+48 4-frame sequences, subject fold 0 of 10, accuracy", "10 of 40 epochs, fold 0 only"),
    ("seed4-cnn-ckplus-48", "seed 4: CNN on CK+ 95% (JAFFE 50%)",
     "configs/seed4-cnn-ckplus.yaml", ["--set", "arch_kwargs.size=48"],
     "CK+48 frames at their own 48 px (the seed: 96 px crops of full frames), 8 classes incl. contempt, "
     "held-out subjects (fold 0 of 10), accuracy",
     "the seed's: up to 100 epochs, early stopping on validation loss (patience 10); fold 0 only"),
    ("seed4-cnn-va", "seed 4: CNN valence/arousal on Aff-Wild2, CCC 0.22 / 0.22 (CNN, subset 3)",
     "configs/seed4-cnn-va.yaml", ["--epochs", "2", "--max-train", "4000"],
     "FER+ Valid valence/arousal PROXIES (no Aff-Wild2 here), mean CCC",
     "2 of 30 epochs on 4,000 training images"),
]

CANNOT = [
    ("seed 1: 78.52% CREMA-D, 63.35% RAVDESS", "no CREMA-D or RAVDESS video in ../shared; the readers and the "
     "75-frame clip rule are tested on fixtures in their real formats"),
    ("seed 4: Aff-Wild2 CCC (valence 0.23, arousal 0.39 with CNN + 3-layer GRU)", "no Aff-Wild2 here; the CCC "
     "numbers emotrace reports are on FER+ proxies, a different and easier target"),
    ("seed 3: ~86% on its own FER2013 + CK+ mix", "the mix and its split are not published; FER2013 and CK+ are "
     "measured separately, CK+ by subject"),
    ("seed 4: JAFFE 50% (cross-dataset)", "no JAFFE in ../shared; the JAFFE reader is tested on a fixture"),
]


def run_row(row_id: str, config: str, extra: list[str]) -> Path:
    out = RUNS / row_id
    if (out / "metrics.json").is_file():
        return out
    cmd = [sys.executable, "-m", "emotrace.cli", "train", config, "--out-dir", str(out), *extra]
    print("running:", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)
    return out


def measured(out: Path) -> str:
    m = json.loads((out / "metrics.json").read_text())
    if "ccc" in m:  # a valence/arousal run (the engine's classify task records mean and per-dimension CCC)
        return f"mean CCC {m['ccc']:.3f} (valence {m['ccc_valence']:.3f}, arousal {m['ccc_arousal']:.3f})"
    return f"{100 * m['accuracy']:.2f}% (UAR {100 * m['uar']:.2f}%, n={m.get('n', m.get('rows'))})"


def table() -> str:
    lines = ["| Seed claim | Measured here with that architecture | Data and metric | Budget | Run |",
             "|---|---|---|---|---|"]
    for row_id, claim, config, extra, what, budget in ROWS:
        out = RUNS / row_id
        got = measured(out) if (out / "metrics.json").is_file() else "not run"
        cmd = f"`emotrace train {config} --out-dir runs/seed-table/{row_id} {' '.join(extra)}`"
        if (out / "metrics.json").is_file():
            commit = json.loads((out / "metrics.json").read_text()).get("commit", "")
            cmd += f" ({commit[:7]})" if commit else ""
        lines.append(f"| {claim} | {got} | {what} | {budget} | {cmd} |")
    lines += ["", "| Seed claim | Why it cannot be measured here |", "|---|---|"]
    lines += [f"| {c} | {why} |" for c, why in CANNOT]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--print", action="store_true", help="only print the table from finished runs")
    ap.add_argument("--only", nargs="*", help="row ids to run")
    args = ap.parse_args()
    if not args.print:
        for row_id, _, config, extra, _, _ in ROWS:
            if args.only and row_id not in args.only:
                continue
            run_row(row_id, config, extra)
    print(table())


if __name__ == "__main__":
    main()
