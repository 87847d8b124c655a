"""Do the face signals help the label? Issue 26's "used by the model (measure, ship only what wins)".

    PYTHONPATH=src python benchmarks/signals_fusion.py [--shared ../shared] [--fer-sample 500]
        [--out benchmarks/results/signals_fusion.json]

Each photo of TFEID, SFEW Train and CK+ (apex + neutral, the kinds the cross-dataset table scores) goes once
through `Analyzer(signals=1).stills` (cached per set in benchmarks/results/signals_fusion_<set>.npz: the frame
model's calibrated probabilities, 52 blendshapes and yaw/pitch/roll of the biggest face). The held-out groups are
the default frame model's (`group_holdout`, fraction 0.25, seed 0: TFEID performers, CK+ subjects, SFEW movies);
the other groups train. On the held-out groups, accuracy and UAR of:

- `frame`: the frame model alone (its top class), what the product answers;
- `frame refit`: a multinomial logistic regression on the frame model's log-probabilities only (a control: what
  re-weighting the frame model's classes on these sets gains without any signal);
- `signals`: the regression on the 52 blendshapes + pose / 90 alone;
- `fused`: the regression on [log frame probs, blendshapes, pose / 90].

`+a / -b`: held-out photos the variant gets right where the frame model is wrong, and the reverse (the paired
difference; about 175 photos per set, so one photo is 0.6 points).

Each regression is fitted once on the training groups of the three sets pooled (one model, as a product would ship)
and once per set; L2 strength chosen by group 4-fold cross-validation on the training rows (UAR), classes balanced.
A photo whose signals are missing (no face, or the landmarker did not fit) keeps the frame model's answer in the
`signals` and `fused` rows. Caveat: the frame model trained on these sets' training groups, so its probabilities
there are more confident than on unseen faces; a regression fitted on them leans on the frame model more than it
would on unseen data (it can only favour `frame`).

FER+ Valid (48 px gray): --fer-sample photos, upscaled to 192 px, through the same pipeline: how many the
landmarker fits at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SETS = {"tfeid": "tfeid", "ckplus": "ckplus", "sfew": "sfew"}  # name -> folder under data/
LAMBDAS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def photo_set(data: Path, name: str) -> dict[str, np.ndarray]:
    """Paths, labels (index into EMOTIONS), groups and held-out mask of a set's scored photos."""
    from emotrace.data.photo_crops import _photo_list, group_holdout, group_of
    from emotrace.data.readers import open_dataset
    from emotrace.eval.photos import SCORED_KINDS
    from emotrace.labels import EMOTIONS, canonical

    ds = open_dataset(data / SETS[name])
    photos = _photo_list(ds, name)
    groups = np.array([group_of(p, name) for p, _, _ in photos])
    held = group_holdout(groups, 0.25, 0)  # over every photo's group, as load_photo_crops' rows give them
    to7 = np.array([EMOTIONS.index(canonical(c)) if c != "contempt" and canonical(c) in EMOTIONS else -1
                    for c in ds.classes])
    labels = to7[np.array([lab for _, lab, _ in photos])]
    kinds = np.array([k for _, _, k in photos])
    keep = labels >= 0
    if name in SCORED_KINDS:
        keep &= np.isin(kinds, SCORED_KINDS[name])
    return {"paths": np.array([str(p) for p, _, _ in photos])[keep], "labels": labels[keep],
            "groups": groups[keep], "held": held[keep]}


def cached_signals(name: str, paths: np.ndarray, **kw: Any) -> dict[str, np.ndarray]:
    """`photo_signals` of the paths, from benchmarks/results/signals_fusion_<name>.npz when it holds the same paths."""
    from signal_photos import photo_signals

    cache = RESULTS / f"signals_fusion_{name}.npz"
    if cache.exists():
        z = dict(np.load(cache, allow_pickle=False))
        if z["paths"].tolist() == paths.tolist():
            return z
    print(f"  {name}: {len(paths)} photos through Analyzer(signals=1).stills", flush=True)
    out = photo_signals(paths.tolist(), **kw)
    out["paths"] = paths
    RESULTS.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **out)
    return out


# -- a small multinomial logistic regression (no scikit-learn here) --------------------------------------------------

class Softmax:
    """Multinomial logistic regression, L2 on the weights (not the bias), standardised features, balanced classes."""

    def __init__(self, lam: float, k: int) -> None:
        self.lam, self.k = lam, k

    def fit(self, x: np.ndarray, y: np.ndarray) -> Softmax:
        self.mu, self.sd = x.mean(0), x.std(0) + 1e-6
        z = (x - self.mu) / self.sd
        n, d = z.shape
        counts = np.bincount(y, minlength=self.k).astype(float)
        w_row = (n / (self.k * np.maximum(counts, 1)))[y]
        onehot = np.eye(self.k)[y]

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:d * self.k].reshape(d, self.k), theta[d * self.k:]
            logits = z @ w + b
            logits -= logits.max(1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
            f = -(w_row * (onehot * logp).sum(1)).sum() / n + 0.5 * self.lam * (w * w).sum()
            g = (np.exp(logp) - onehot) * w_row[:, None] / n
            return f, np.concatenate([(z.T @ g + self.lam * w).ravel(), g.sum(0)])

        res = minimize(loss, np.zeros(d * self.k + self.k), jac=True, method="L-BFGS-B",
                       options={"maxiter": 2000})
        self.w, self.b = res.x[:d * self.k].reshape(d, self.k), res.x[d * self.k:]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmax(((x - self.mu) / self.sd) @ self.w + self.b, 1)


def uar(y: np.ndarray, p: np.ndarray, k: int) -> float:
    present = [c for c in range(k) if (y == c).any()]
    return float(np.mean([np.mean(p[y == c] == c) for c in present]))


def fit_cv(x: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int) -> tuple[Softmax, float]:
    """The L2 strength with the best group 4-fold UAR on the training rows, refitted on all of them."""
    uniq = np.array(sorted(set(groups.tolist())))
    fold = dict(zip(uniq, np.random.default_rng(0).permutation(len(uniq)) % 4, strict=True))
    f = np.array([fold[g] for g in groups])
    best = (-1.0, LAMBDAS[0])
    for lam in LAMBDAS:
        pred = np.empty_like(y)
        for i in range(4):
            tr, te = f != i, f == i
            pred[te] = Softmax(lam, k).fit(x[tr], y[tr]).predict(x[te])
        best = max(best, (uar(y, pred, k), lam))
    return Softmax(best[1], k).fit(x, y), best[1]


def features(z: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The feature blocks of each photo (rows without signals hold NaN there)."""
    logp = np.log(np.clip(z["probs"], 1e-6, 1.0))
    sig = np.column_stack([z["blendshapes"], z["pose"] / 90.0])
    return {"frame refit": logp, "signals": sig, "fused": np.column_stack([logp, sig])}


def score(y: np.ndarray, pred: np.ndarray, k: int) -> dict[str, float]:
    return {"accuracy": float(np.mean(pred == y)), "uar": uar(y, pred, k)}


def evaluate(sets: dict[str, dict[str, np.ndarray]], k: int) -> dict[str, Any]:
    """Every variant, fitted pooled and per set, scored on each set's held-out groups."""
    frame_pred = {n: np.where(np.isnan(s["probs"][:, 0]), -1, np.nan_to_num(s["probs"]).argmax(1))
                  for n, s in sets.items()}
    feats = {n: features(s) for n, s in sets.items()}
    has = {n: (s["status"] == "measured") for n, s in sets.items()}
    has_frame = {n: ~np.isnan(s["probs"][:, 0]) for n, s in sets.items()}
    out: dict[str, Any] = {n: {"n_test": int(s["held"].sum()), "n_train": int((~s["held"]).sum()),
                               "signals_measured_test": int((has[n] & s["held"]).sum()),
                               "frame": score(s["labels"][s["held"]], frame_pred[n][s["held"]], k)}
                           for n, s in sets.items()}
    for variant in ("frame refit", "signals", "fused"):
        need = has_frame if variant == "frame refit" else has
        for scope in ("pooled", "per set"):
            fitted: dict[str, tuple[Softmax, float]] = {}
            if scope == "pooled":
                rows = {n: need[n] & ~s["held"] for n, s in sets.items()}
                x = np.vstack([feats[n][variant][rows[n]] for n in sets])
                y = np.concatenate([s["labels"][rows[n]] for n, s in sets.items()])
                g = np.concatenate([np.char.add(f"{n}:", s["groups"][rows[n]]) for n, s in sets.items()])
                model = fit_cv(x, y, g, k)
                fitted = dict.fromkeys(sets, model)
            else:
                for n, s in sets.items():
                    r = need[n] & ~s["held"]
                    fitted[n] = fit_cv(feats[n][variant][r], s["labels"][r], s["groups"][r], k)
            for n, s in sets.items():
                model, lam = fitted[n]
                te = s["held"]
                pred = frame_pred[n].copy()
                ok = need[n]
                pred[ok] = model.predict(feats[n][variant][ok])
                y, base = s["labels"][te], frame_pred[n][te]
                out[n][f"{variant}, {scope}"] = {**score(y, pred[te], k), "lambda": lam,
                                                 "fixed": int(((pred[te] == y) & (base != y)).sum()),
                                                 "broken": int(((pred[te] != y) & (base == y)).sum())}
    return out


def ferplus_fit(data: Path, sample: int) -> dict[str, Any]:
    """How many FER+ Valid photos (48 px gray, upscaled to 192 px) the landmarker fits, and the smile check there."""
    import csv

    from signal_photos import photo_signals

    from emotrace.faces.signal_names import BLENDSHAPES

    folder = data / "ferplus" / "FER2013Valid"
    votes = {}
    with open(data / "ferplus" / "fer2013new.csv") as fh:
        for row in csv.DictReader(fh):
            if row["Usage"] == "PublicTest":
                votes[row["Image name"]] = row
    names = sorted(p.name for p in folder.glob("*.png"))
    pick = sorted(np.random.default_rng(0).choice(len(names), min(sample, len(names)), replace=False).tolist())
    paths = [str(folder / names[i]) for i in pick]
    z = photo_signals(paths, size=192)
    status = {str(s): int(c) for s, c in zip(*np.unique(z["status"], return_counts=True), strict=True)}
    emotions = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"]

    def majority(name: str) -> str:
        v = votes.get(name)
        if v is None:
            return ""
        counts = [int(v[e]) for e in emotions]
        return emotions[int(np.argmax(counts))] if max(counts) > sum(counts) / 2 else ""

    lab = np.array([majority(Path(p).name) for p in paths])
    smile = z["blendshapes"][:, BLENDSHAPES.index("mouthSmileLeft")]
    ok = z["status"] == "measured"
    res: dict[str, Any] = {"n": len(paths), "status": status, "measured_share": float(ok.mean())}
    hap, neu = ok & (lab == "happiness"), ok & (lab == "neutral")
    if hap.any() and neu.any():
        res["smile_happy_over_neutral"] = float(smile[hap].mean() / smile[neu].mean())
        res["smile_n"] = [int(hap.sum()), int(neu.sum())]
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--fer-sample", type=int, default=500, help="FER+ Valid photos to try (0: skip)")
    ap.add_argument("--out", default=str(RESULTS / "signals_fusion.json"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from emotrace.labels import EMOTIONS
    from emotrace.provenance import provenance

    data = Path(args.shared) / "data"
    k = len(EMOTIONS)
    sets = {}
    for name in SETS:
        s = photo_set(data, name)
        z = cached_signals(name, s["paths"])
        if list(z["classes"]) != list(EMOTIONS):
            raise SystemExit(f"frame model classes {list(z['classes'])} are not {EMOTIONS}")
        sets[name] = {**s, **{key: z[key] for key in ("probs", "blendshapes", "pose", "status")}}
    res = evaluate(sets, k)
    report: dict[str, Any] = {"provenance": provenance(vars(args)), "sets": res}
    if args.fer_sample:
        print(f"  FER+ Valid: {args.fer_sample} photos upscaled to 192 px", flush=True)
        report["ferplus"] = ferplus_fit(data, args.fer_sample)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))

    rows = ["frame", "frame refit, pooled", "frame refit, per set", "signals, pooled", "signals, per set",
            "fused, pooled", "fused, per set"]
    wins = []
    for name, r in res.items():
        print(f"\n{name}: held-out groups {r['n_test']} photos (signals measured on {r['signals_measured_test']}), "
              f"training groups {r['n_train']}")
        print(f"  {'model':24s} {'accuracy':>9s} {'UAR':>8s}  {'right/wrong vs frame':>20s}  L2")
        for row in rows:
            m = r[row]
            pm = f"+{m['fixed']} / -{m['broken']}" if "lambda" in m else ""
            extra = f"  {pm:>20s}  {m['lambda']:g}" if pm else ""
            print(f"  {row:24s} {100 * m['accuracy']:8.2f}% {100 * m['uar']:7.2f}%{extra}")
        f, fu = r["frame"], r["fused, pooled"]
        wins.append(fu["accuracy"] > f["accuracy"] and fu["uar"] > f["uar"])
    print(f"\nfused (pooled) beats the frame model on accuracy and UAR on every held-out set: "
          f"{'YES' if all(wins) else 'NO'} ({', '.join(f'{n} {w}' for n, w in zip(res, wins, strict=True))})")
    if "ferplus" in report:
        fp = report["ferplus"]
        extra = (f"; mouthSmileLeft happy / neutral on the fitted ones {fp['smile_happy_over_neutral']:.1f}x "
                 f"(n {fp['smile_n'][0]} / {fp['smile_n'][1]})" if "smile_happy_over_neutral" in fp else "")
        print(f"FER+ Valid, {fp['n']} photos upscaled to 192 px: {fp['status']}, fitted "
              f"{100 * fp['measured_share']:.1f}%{extra}")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
