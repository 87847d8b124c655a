"""The temporal benchmark: steadiness on real video, accuracy and lag on labelled rendered sequences, for the frame
model, EMA at several time constants, the online HMM decoder, the trained models and the offline decoder.

    python benchmarks/bench_temporal.py [--shared ../shared] [--models NAME ...] [--frame-model NAME]
        [--cache runs/temporal-bench] [--features DIR] [--json benchmarks/results/temporal.json]
        [--chart docs/temporal-flicker-vs-lag.png] [--table docs/temporal-table.md]

Writes the results (with command, commit and config) as JSON, the flicker-versus-lag chart (PNG) and the table
(Markdown) that docs/benchmarks.md shows. Frame-model outputs are cached under --cache per frame model, so a
second run replays the stages only. See `emotrace.eval.temporal_bench` for what is measured.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

import torch

from emotrace.eval.temporal_bench import default_methods, run_benchmark
from emotrace.provenance import provenance

SHIPPED = ["emotrace-gru-v2", "emotrace-tgru-ferplus-ckplus", "emotrace-tlstm-ferplus-ckplus",
           "emotrace-lookahead-gru-ferplus-ckplus", "emotrace-tgru-ferplus-ckplus+lookahead"]


def _label(m: str) -> str:
    return m.replace("emotrace-", "").replace("-ferplus-ckplus", "").replace("-v2", "")


def table(res: dict) -> str:
    """One Markdown row per method: real-video steadiness, FER+ Valid sequences at 30 and 15 fps, CK+ clips."""
    head = ("| method | video changes/s | video step distance | FER+ seq acc | changes/s | lag median / p90 / mean "
            "(frames) | acc at 15 fps | CK+ clips acc | CK+ lag median |\n|---|---|---|---|---|---|---|---|---|\n")
    rows = []
    for m, r in res["results"].items():
        v, f, f15, ck = (r.get(k, {}) for k in ("media", "ferplus_valid", "ferplus_valid_15fps", "ckplus_test_seen"))

        def g(d: dict, k: str, fmt: str = "{:.3f}") -> str:
            x = d.get(k)
            return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)

        rows.append(f"| {_label(m)} | {g(v, 'label_changes_per_s', '{:.2f}')} | {g(v, 'mean_step_distance', '{:.4f}')}"
                    f" | {g(f, 'frame_accuracy')} | {g(f, 'label_changes_per_s', '{:.2f}')} | "
                    f"{g(f, 'median_frames_to_follow', '{:.0f}')} / {g(f, 'p90_frames_to_follow', '{:.0f}')} / "
                    f"{g(f, 'mean_frames_to_follow', '{:.2f}')} | {g(f15, 'frame_accuracy')} | "
                    f"{g(ck, 'frame_accuracy')} | {g(ck, 'median_frames_to_follow', '{:.0f}')} |")
    return head + "\n".join(rows) + "\n"


def chart(res: dict, path: Path) -> None:
    """Flicker on real video (y) against mean frames to follow a change on FER+ sequences (x), per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    groups: dict[str, list[tuple[float, float, str]]] = {}
    for m, r in res["results"].items():
        if "media" not in r:
            continue
        key = "EMA" if m.startswith("ema:") else "HMM filter" if m.startswith("hmm:") else _label(m)
        groups.setdefault(key, []).append((r["ferplus_valid"]["mean_frames_to_follow"],
                                           r["media"]["label_changes_per_s"], m.split(":")[-1]))
    for key, pts in groups.items():
        pts.sort()
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        style = "-o" if len(pts) > 1 else "*" if "lookahead" in key else "s"
        ax.plot(xs, ys, style, label=key, markersize=10 if len(pts) == 1 else 5)
        if len(pts) > 1:
            for x, y, lab in pts:
                ax.annotate(lab + ("s" if key == "EMA" else "/s"), (x, y), fontsize=7, textcoords="offset points",
                            xytext=(3, 3))
    ax.set_xlabel("lag: mean frames (30 fps) to follow a change, rendered FER+ Valid sequences")
    ax.set_ylabel("top-label changes per second of tracked face, real videos")
    ax.set_title(f"Flicker versus lag (over {res['frame_model']})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--models", nargs="*", default=SHIPPED, help="temporal stages by name (shipped, run folders, "
                                                                    "NAME+lookahead)")
    ap.add_argument("--frame-model", default="emotrace-cnn-m-v2", help="the frame model the stages read (default: v2)")
    ap.add_argument("--cache", default="runs/temporal-bench", help="frame-model outputs, per frame model")
    ap.add_argument("--features", help="folder of labelled-sequence features to reuse (a temporal training run's "
                                       "features-<frame model>-0); default: under --cache")
    ap.add_argument("--json", default="benchmarks/results/temporal.json")
    ap.add_argument("--chart", default="docs/temporal-flicker-vs-lag.png")
    ap.add_argument("--table", default="docs/temporal-table.md")
    args = ap.parse_args()
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    shared = Path(args.shared)
    cache = Path(args.cache) / f"features-{args.frame_model}-0"
    res = run_benchmark(default_methods(args.models), args.frame_model, str(shared / "media"),
                        str(shared / "data/ferplus"), str(shared / "data/ckplus"), cache,
                        Path(args.features) if args.features else None)
    res["provenance"] = provenance(vars(args))
    res["command"] = " ".join(["python", *sys.argv])
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(res, indent=2, default=float) + "\n")
    Path(args.table).write_text(table(res))
    chart(res, Path(args.chart))
    print(table(res))
    print(f"wrote {args.json}, {args.table}, {args.chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
