"""Issue 26's sanity goals for the face signals, on every TFEID photo through `Analyzer(signals=1).stills`.

    PYTHONPATH=src python benchmarks/signals_sanity.py [--shared ../shared] [--limit N]
        [--out benchmarks/results/signals_sanity.json]

1. mean `bs_mouthSmileLeft` on the happy photos >= 3x its mean on the neutral photos;
2. mean `bs_jawOpen` on the surprise photos >= 3x its mean on the neutral photos;
3. each photo and its mirror image: yaw_mirrored = -yaw within 3 degrees on every photo measured both ways (max
   and median of |yaw + yaw_mirrored| printed; pitch (|pitch - pitch_mirrored|) and roll (|roll + roll_mirrored|)
   agreement too).

Prints PASS / FAIL per goal with the measured figure; the biggest face of each photo is its answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RATIO_GOAL, MIRROR_DEG = 3.0, 3.0


def tfeid_photos(root: Path) -> tuple[list[str], np.ndarray]:
    """Every TFEID photo and its emotion (the folder name), sorted."""
    paths = sorted(root.glob("*/*.jpg"))
    return [str(p) for p in paths], np.array([p.parent.name for p in paths])


def ratio_goal(bs: np.ndarray, labels: np.ndarray, name: str, emotion: str) -> dict[str, Any]:
    """Mean of one blendshape on `emotion` photos over its mean on neutral photos (measured photos only)."""
    from emotrace.faces.signal_names import BLENDSHAPES

    col = bs[:, BLENDSHAPES.index(name)]
    ok = ~np.isnan(col)
    a, b = col[ok & (labels == emotion)], col[ok & (labels == "neutral")]
    ratio = float(a.mean() / b.mean())
    return {"blendshape": name, "emotion": emotion, "mean": float(a.mean()), "n": int(len(a)),
            "neutral_mean": float(b.mean()), "neutral_n": int(len(b)), "ratio": ratio, "goal": RATIO_GOAL,
            "pass": ratio >= RATIO_GOAL}


def mirror_goal(pose: np.ndarray, pose_m: np.ndarray) -> dict[str, Any]:
    """Yaw, pitch and roll of each photo against its mirror's, on photos measured both ways."""
    ok = ~np.isnan(pose[:, 0]) & ~np.isnan(pose_m[:, 0])
    p, q = pose[ok], pose_m[ok]
    err = {"yaw": np.abs(p[:, 0] + q[:, 0]), "pitch": np.abs(p[:, 1] - q[:, 1]), "roll": np.abs(p[:, 2] + q[:, 2])}
    res: dict[str, Any] = {"n": int(ok.sum()), "yaw_range": [float(p[:, 0].min()), float(p[:, 0].max())]}
    for k, e in err.items():
        res[k] = {"max": float(e.max()), "median": float(np.median(e)), "p95": float(np.percentile(e, 95)),
                  "within_3deg": float(np.mean(e <= MIRROR_DEG))}
    res["worst_yaw_rows"] = np.argsort(-err["yaw"])[:5].tolist()
    res["pass"] = res["yaw"]["max"] <= MIRROR_DEG
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--limit", type=int, default=0, help="every Nth photo only (0: all)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "signals_sanity.json"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from signal_photos import mirror, photo_signals

    from emotrace.provenance import provenance

    paths, labels = tfeid_photos(Path(args.shared) / "data" / "tfeid")
    if args.limit:
        paths, labels = paths[::args.limit], labels[::args.limit]
    print(f"TFEID: {len(paths)} photos, each as it is and mirrored", flush=True)
    a = photo_signals(paths)
    b = photo_signals(paths, transform=mirror)
    status = {str(s): int(n) for s, n in zip(*np.unique(a["status"], return_counts=True), strict=True)}
    status_m = {str(s): int(n) for s, n in zip(*np.unique(b["status"], return_counts=True), strict=True)}
    smile = ratio_goal(a["blendshapes"], labels, "mouthSmileLeft", "happy")
    jaw = ratio_goal(a["blendshapes"], labels, "jawOpen", "surprise")
    mir = mirror_goal(a["pose"], b["pose"])
    mir["worst_yaw_photos"] = [Path(paths[int(np.flatnonzero(~np.isnan(a["pose"][:, 0])
                                                             & ~np.isnan(b["pose"][:, 0]))[r])]).name
                               for r in mir.pop("worst_yaw_rows")]
    report = {"provenance": provenance(vars(args)), "photos": len(paths), "status": status,
              "status_mirrored": status_m, "smile": smile, "jaw": jaw, "mirror": mir}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    print(f"\nsignal status: {status}; mirrored: {status_m}")
    for g in (smile, jaw):
        print(f"{verdict(g['pass'])}  bs_{g['blendshape']}: {g['emotion']} mean {g['mean']:.4f} (n={g['n']}) / "
              f"neutral mean {g['neutral_mean']:.4f} (n={g['neutral_n']}) = {g['ratio']:.1f}x (goal >= "
              f"{RATIO_GOAL:g}x)")
    y, p, r = mir["yaw"], mir["pitch"], mir["roll"]
    print(f"{verdict(mir['pass'])}  mirror, {mir['n']} photos measured both ways (yaw {mir['yaw_range'][0]:.1f} to "
          f"{mir['yaw_range'][1]:.1f} deg): |yaw + yaw_mirrored| max {y['max']:.2f}, median {y['median']:.2f}, "
          f"p95 {y['p95']:.2f} deg, {100 * y['within_3deg']:.1f}% within {MIRROR_DEG:g} deg (goal: max <= "
          f"{MIRROR_DEG:g})")
    print(f"      pitch |pitch - pitch_mirrored| max {p['max']:.2f}, median {p['median']:.2f}, p95 {p['p95']:.2f}, "
          f"{100 * p['within_3deg']:.1f}% within 3; roll |roll + roll_mirrored| max {r['max']:.2f}, median "
          f"{r['median']:.2f}, p95 {r['p95']:.2f}, {100 * r['within_3deg']:.1f}% within 3")
    print(f"      worst yaw: {', '.join(mir['worst_yaw_photos'])}")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
