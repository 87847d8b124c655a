"""Person-aware labels (issue 25, item 5): does a person's own neutral reference correct faces that look "sad" or
"angry" at rest? Measured, not shipped unless it wins (docs/people.md has the figures).

    PYTHONPATH=src python benchmarks/person_labels.py [--shared ../shared] [--sets tfeid ckplus] [--rows holdout]

Each photo of the set goes through the pipeline a user runs (`Analyzer.stills`, the default frame model, the biggest
face), giving its calibrated class probabilities. Per person (TFEID performer, CK+ subject) a reference is taken and
the person's log-probabilities are corrected by its offset from the population:

    corrected = log p - alpha * (reference - population reference)

References: `neutral photo` (the person's first neutral photo by name, which is then not scored; in a collection,
the neutral photo a study takes of each participant), `most neutral` (the mean of the person's 3 photos the model
finds most neutral: what a video gives without labels). The population reference and alpha are fitted leaving the
scored person out (the other persons of the same rows), so no person's labels choose its own correction; alpha = 1
(the plain subtraction) is printed too. Rows: holdout (the groups the default model's mix run held out, the honest
rows) or all. Photos where no face was found are left out of every column alike.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ALPHAS = np.round(np.arange(0.0, 1.51, 0.1), 2)
MOST_NEUTRAL = 3


def photo_logprobs(paths: list[str]) -> np.ndarray:
    """(N, 7) log-probabilities of each photo's biggest face (NaN rows: no face)."""
    from emotrace.eval.photos import biggest_faces
    from emotrace.labels import EMOTIONS

    out = np.full((len(paths), len(EMOTIONS)), np.nan)
    for i, f, j in biggest_faces(paths, person_distance=0):
        out[i] = np.log(np.clip(f.frame_probs[j], 1e-6, 1.0))
    return out


def references(logp: np.ndarray, groups: np.ndarray, y: np.ndarray, paths: list[str], kind: str,
               neutral: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per person its reference log-probabilities, and the mask of photos used as a reference (not scored)."""
    used = np.zeros(len(y), bool)
    ref: dict[str, np.ndarray] = {}
    for g in sorted(set(groups.tolist())):
        rows = np.flatnonzero((groups == g) & ~np.isnan(logp[:, 0]))
        if kind == "neutral photo":
            cand = [i for i in rows if y[i] == neutral]
            if not cand:
                continue
            first = min(cand, key=lambda i: paths[i])
            ref[g], used[first] = logp[first], True
        else:
            top = rows[np.argsort(-logp[rows, neutral])[:MOST_NEUTRAL]]
            ref[g] = logp[top].mean(0)
    return ref, used


def corrected_accuracy(logp: np.ndarray, y: np.ndarray, groups: np.ndarray, ref: dict[str, np.ndarray],
                       scored: np.ndarray, alpha: float | None) -> tuple[float, list[float]]:
    """Accuracy over `scored` rows of persons with a reference, each person corrected with the population reference
    of the others and `alpha` (None: fitted on the others, best accuracy, the smaller alpha on a tie)."""
    hits, chosen = [], []
    people = sorted(ref)
    for g in people:
        others = [o for o in people if o != g]
        pop = np.mean([ref[o] for o in others], 0)
        a = alpha
        if a is None:
            def acc_others(a_: float, others: list[str] = others) -> float:
                h = []
                for o in others:
                    rest = [p for p in others if p != o]
                    pop_o = np.mean([ref[p] for p in rest], 0)
                    rows = np.flatnonzero(scored & (groups == o))
                    h += list((logp[rows] - a_ * (ref[o] - pop_o)).argmax(1) == y[rows])
                return float(np.mean(h)) if h else 0.0
            a = float(max(ALPHAS, key=lambda a_: (acc_others(a_), -a_)))
        chosen.append(a)
        rows = np.flatnonzero(scored & (groups == g))
        hits += list((logp[rows] - a * (ref[g] - pop)).argmax(1) == y[rows])
    return float(np.mean(hits)), chosen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--sets", nargs="*", default=["tfeid", "ckplus"], choices=["tfeid", "ckplus"])
    ap.add_argument("--rows", choices=["holdout", "all"], default="holdout")
    args = ap.parse_args()
    from emotrace.eval.photos import scored_photos
    from emotrace.labels import EMOTIONS

    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"command: {' '.join(sys.argv)}  commit: {commit}")
    neutral = EMOTIONS.index("neutral")
    for name in args.sets:
        root = Path(args.shared) / "data" / name
        if not root.is_dir():
            print(f"{name}: not found at {root}, skipped")
            continue
        paths, y, groups = scored_photos(root, name, args.rows)
        groups = groups.astype(str)
        logp = photo_logprobs(paths)
        found = ~np.isnan(logp[:, 0])
        print(f"\n{name} ({args.rows} rows): {len(paths)} photos, {int(found.sum())} with a face, "
              f"{len(set(groups.tolist()))} people")
        print("  reference       scored  baseline  alpha=1  alpha fitted (leave one person out)  fitted alphas")
        for kind in ("neutral photo", "most neutral"):
            ref, used = references(logp, groups, y, paths, kind, neutral)
            scored = found & ~used & np.isin(groups, list(ref))
            base = float(np.mean(logp[scored].argmax(1) == y[scored]))
            one, _ = corrected_accuracy(logp, y, groups, ref, scored, 1.0)
            fit, alphas = corrected_accuracy(logp, y, groups, ref, scored, None)
            print(f"  {kind:14s} {int(scored.sum()):7d}  {base:8.4f}  {one:7.4f}  {fit:8.4f} ({fit - base:+.4f})"
                  f"{'':25s}{min(alphas):.1f}-{max(alphas):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
