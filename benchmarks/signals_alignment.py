"""Can the face mesh drive alignment? Issue 26, item 2 ("the same pose can drive alignment"): measured on the
held-out photos before anything is shipped.

    PYTHONPATH=src python benchmarks/signals_alignment.py [--shared ../shared] [--sets tfeid ckplus sfew]

Each held-out photo (the default frame model's held-out groups: `scored_photos(rows="holdout")`) goes through
`Analyzer(signals=1).stills` twice: the crop aligned as shipped (BlazeFace's eyes, nose tip and mouth centre mapped
onto the FER template, the default) and aligned from the face mesh the signal reader measured (the two iris
centres, the nose tip and the mouth centre of its 478 landmarks, onto the same template: `faces/align.py`
`mesh_keypoints`, `--mesh-align`), where the landmarker fitted the face; the biggest face's top class is
the answer. Printed: accuracy, UAR, and the photos each variant gets right where the
other is wrong. A photo with no face is wrong in both; one the landmarker did not fit keeps the shipped crop.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
def answers(paths: list[str], from_mesh: bool) -> tuple[np.ndarray, int]:
    """Top class per photo (-1: no face) and how many faces the landmarker measured (aligned from the mesh when
    `from_mesh`, `--mesh-align`)."""
    from emotrace.eval.photos import biggest_faces

    pred = np.full(len(paths), -1, np.int64)
    used = 0
    for i, f, j in biggest_faces(paths, person_distance=0, signals=1, mesh_align=from_mesh):
        pred[i] = int(np.argmax(f.frame_probs[j]))
        used += int(f.signals.status[j] == "measured")
    return pred, used


def ferplus_sample(root: Path, n: int) -> tuple[list[str], np.ndarray]:
    """A seeded sample of FER+ Valid photos (48 px gray, taken whole by the photo path) with a 7-class majority
    label (more than half of the ten votes)."""
    import csv

    from emotrace.labels import EMOTIONS, canonical

    names = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"]
    rows = []
    with open(root / "fer2013new.csv") as fh:
        for row in csv.DictReader(fh):
            if row["Usage"] != "PublicTest" or not row["Image name"]:
                continue
            votes = np.array([int(row[c]) for c in names])
            top = int(np.argmax(votes))
            if votes[top] > votes.sum() / 2 and names[top] != "contempt":
                rows.append((str(root / "FER2013Valid" / row["Image name"]), EMOTIONS.index(canonical(names[top]))))
    pick = np.sort(np.random.default_rng(0).choice(len(rows), min(n, len(rows)), replace=False))
    return [rows[i][0] for i in pick], np.array([rows[i][1] for i in pick])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--sets", nargs="*", default=["tfeid", "ckplus", "sfew", "ferplus"])
    ap.add_argument("--ferplus-sample", type=int, default=1000, help="FER+ Valid photos (majority label, seeded)")
    args = ap.parse_args()
    from emotrace.eval.metrics import classification_metrics
    from emotrace.eval.photos import scored_photos
    from emotrace.labels import EMOTIONS

    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"command: {' '.join(sys.argv)}  commit: {commit}")
    k = len(EMOTIONS)
    for name in args.sets:
        root = Path(args.shared) / "data" / name
        if not root.is_dir():
            continue
        if name == "ferplus":
            paths, y = ferplus_sample(root, args.ferplus_sample)
        else:
            paths, y, _ = scored_photos(root, name, "holdout")
        res = {}
        for variant, mesh in (("shipped", False), ("mesh", True)):
            pred, used = answers(paths, mesh)
            scored = np.where(pred >= 0, pred, (y + 1) % k)
            m = classification_metrics(y, scored, k)
            res[variant] = scored == y
            print(f"{name:6s} {variant:8s} n={len(y)} accuracy {m['accuracy']:.4f} UAR {m['uar']:.4f}"
                  + (f" ({used} aligned from the mesh)" if mesh else ""))
        print(f"{name:6s} mesh right where shipped wrong: {int((res['mesh'] & ~res['shipped']).sum())}, "
              f"the reverse: {int((res['shipped'] & ~res['mesh']).sum())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
