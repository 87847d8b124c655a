"""The temporal label held through flagged faces (issue 26: the quality flags used by the temporal stage): what
holding changes on the shared videos, with signals on every frame.

    PYTHONPATH=src python benchmarks/signals_hold.py [--shared ../shared] [--signals 1] [--causal]

Per video, `emotrace.analyze` twice with the default temporal stage, `--signals N` with and without
`--no-hold-unclear`. Printed: the share of faces with a flag, the share of rows whose temporal probabilities differ
between the two runs (a look-ahead stage spreads a held input to its neighbours), the temporal label's changes per
second of track (label flicker) with and without holding, the frame model's for scale, and the share of rows whose
temporal label differs. There
is no ground truth on these videos: the figures say what holding does, not whether the held label is right.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
VIDEOS = ("WolfgangLanger_Pexels.mp4", "short_hamilton_clip.mp4", "single_face.mp4", "face_noface.mov",
          "noface_face.mov")


def changes_per_s(df: pd.DataFrame, column: str) -> float:
    """Label changes within tracks per second of track."""
    changes, seconds = 0, 0.0
    for _, t in df[df["track_id"].notna()].sort_values("frame").groupby("track_id"):
        changes += int((t[column].to_numpy()[1:] != t[column].to_numpy()[:-1]).sum())
        seconds += float(t["timestamp"].max() - t["timestamp"].min())
    return changes / seconds if seconds else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--signals", type=int, default=1)
    ap.add_argument("--causal", action="store_true", help="the causal temporal stage (as live), not the look-ahead")
    args = ap.parse_args()
    from emotrace.api import analyze

    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"command: {' '.join(sys.argv)}  commit: {commit}")
    print(f"{'video':28s} {'faces':>6s} {'flagged':>8s} {'changed':>8s} {'changes/s held':>15s} "
          f"{'not held':>9s} {'frame model':>12s} {'labels differ':>14s}")
    for name in VIDEOS:
        path = Path(args.shared) / "media" / name
        if not path.is_file():
            continue
        on = analyze(path, signals=args.signals, offline=not args.causal)
        off = analyze(path, signals=args.signals, hold_unclear=False, offline=not args.causal)
        faces = on["track_id"].notna()
        flagged = float((on.loc[faces, "signals_quality"].fillna("") != "").mean()) if faces.any() else 0.0
        differ = float((on.loc[faces, "label"] != off.loc[faces, "label"]).mean()) if faces.any() else 0.0
        held = float((on.loc[faces, [c for c in on.columns if c.startswith("temporal_")]]
                      != off.loc[faces, [c for c in off.columns if c.startswith("temporal_")]]).any(axis=1).mean()) \
            if faces.any() else 0.0
        print(f"{name:28s} {int(faces.sum()):6d} {flagged:8.1%} {held:8.1%} {changes_per_s(on, 'label'):15.3f} "
              f"{changes_per_s(off, 'label'):9.3f} {changes_per_s(on, 'frame_label'):12.3f} {differ:14.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
