"""The cross-dataset table of docs/benchmarks.md: frame models scored on CK+, TFEID and SFEW through the pipeline a
user runs (`Analyzer.stills` on each photo file: detector, crop fallback, alignment, runtime, calibration).

    python benchmarks/cross_dataset.py --shared ../shared --new default --old emotrace-cnn-m-ferplus \
        --lodo ckplus=runs/frame-v2-lodo-ckplus tfeid=runs/frame-v2-lodo-tfeid sfew=runs/frame-v2-lodo-sfew

For each set: the old model on every photo and on the held-out groups; the new model on the held-out groups (the
groups a `mix` run with the same hold-out fraction and seed never trained on: within protocol); and each
leave-one-dataset-out run (trained without that set at all) on every photo. CK+ is scored on its apex frames plus
each sequence's neutral first frame, and on apex frames alone. Then flip test-time augmentation (the mean of a crop's
and its mirror's probabilities) against none, on FER+ Valid and the held-out groups, for the new model.
Writes the numbers (with per-class recall, confusion and predicted-label shares) as JSON and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from emotrace.eval.photos import evaluate_photo_set
from emotrace.labels import EMOTIONS
from emotrace.provenance import provenance

SETS = {"ckplus": "data/ckplus", "tfeid": "data/tfeid", "sfew": "data/sfew"}


def flip_tta(model_ref: str, shared: Path) -> dict[str, dict[str, float]]:
    """Accuracy and UAR with and without flip TTA, on FER+ Valid (majority, 7) and each set's held-out groups."""
    import torch

    from emotrace.data.photo_crops import group_holdout, load_photo_crops
    from emotrace.data.readers.ferplus import read_split
    from emotrace.eval.metrics import classification_metrics
    from emotrace.models.checkpoint import load_model
    from emotrace.models.outputs import predict_heads

    model = load_model(model_ref).model.eval()
    k = len(EMOTIONS)
    rows = {}
    valid = read_split(shared / "data/ferplus", "valid")
    maj = valid.majority_labels()
    cases = {"ferplus_valid": (valid.images[maj >= 0], maj[maj >= 0])}
    for name, rel in SETS.items():
        pc = load_photo_crops(shared / rel, name)
        held = group_holdout(pc.groups) & (pc.labels < k)
        cases[f"{name}_holdout"] = (pc.images[held], pc.labels[held])
    for name, (images, y) in cases.items():
        with torch.no_grad():
            p = predict_heads(model, images)["probs"][:, :k]
            pf = predict_heads(model, np.ascontiguousarray(images[:, :, ::-1]))["probs"][:, :k]
        plain = classification_metrics(y, p.argmax(1), k)
        both = classification_metrics(y, (p + pf).argmax(1), k)
        rows[name] = {"accuracy": plain["accuracy"], "uar": plain["uar"], "accuracy_flip_tta": both["accuracy"],
                      "uar_flip_tta": both["uar"], "n": int(len(y))}
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--new", default="default", help="the new frame model (shipped name)")
    ap.add_argument("--old", default="emotrace-cnn-m-ferplus", help="the old default (shipped name)")
    ap.add_argument("--lodo", nargs="*", default=[], help="set=run folder of a run trained without that set")
    ap.add_argument("--tta-model", help="model for the flip-TTA measurement (run folder or shipped name)")
    ap.add_argument("--out", default="benchmarks/results/cross_dataset.json")
    args = ap.parse_args()
    shared = Path(args.shared)
    if not (shared / "data").is_dir():
        print(f"cross_dataset: {shared}/data not found", file=sys.stderr)
        return 2
    lodo = dict(item.split("=", 1) for item in args.lodo)
    res: dict[str, dict[str, dict]] = {}
    for name, rel in SETS.items():
        root = shared / rel
        r = res.setdefault(name, {})
        r["old_all"] = evaluate_photo_set(args.old, root, name, "all")
        r["old_holdout"] = evaluate_photo_set(args.old, root, name, "holdout")
        r["new_holdout"] = evaluate_photo_set(args.new, root, name, "holdout")
        if name in lodo:
            r["lodo_all"] = evaluate_photo_set(lodo[name], root, name, "all")
        if name == "ckplus":
            r["old_all_apex"] = evaluate_photo_set(args.old, root, name, "all", kinds=("apex",))
            r["new_holdout_apex"] = evaluate_photo_set(args.new, root, name, "holdout", kinds=("apex",))
            if name in lodo:
                r["lodo_all_apex"] = evaluate_photo_set(lodo[name], root, name, "all", kinds=("apex",))
        for key, m in r.items():
            print(f"{name:7s} {key:17s} acc {m['accuracy']:.4f} uar {m['uar']:.4f} n {m['n']:4d} "
                  f"neutral gap {m['neutral_share_gap']:+.3f} min recall {min(m['per_class_recall']):.2f} "
                  f"no face {m['no_face']} crops {m['taken_as_crop']}")
            print("        recall " + " ".join(f"{e[:3]} {v:.2f}" for e, v in zip(EMOTIONS, m["per_class_recall"],
                                                                           strict=True)))
    out = {"results": res, "provenance": provenance({"new": args.new, "old": args.old, "lodo": lodo})}
    if args.tta_model:
        out["flip_tta"] = flip_tta(args.tta_model, shared)
        for name, m in out["flip_tta"].items():
            print(f"flip TTA {name:16s} acc {m['accuracy']:.4f} -> {m['accuracy_flip_tta']:.4f}  "
                  f"uar {m['uar']:.4f} -> {m['uar_flip_tta']:.4f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, default=float))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
