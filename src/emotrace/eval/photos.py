"""A frame model scored on a labelled photo set through the pipeline a user runs: `Analyzer.stills` on each photo
file (detector, padded retry and whole-image fallback for crops, alignment, runtime, calibration), the biggest face
per photo taken as its answer. A photo with no face at all counts as a wrong answer and is reported.

This is how a model is judged on CK+, TFEID and SFEW (docs/benchmarks.md, the cross-dataset table): per-class
recall, confusion, and the share of each predicted label against the true share (a model that calls posed anger
"neutral" shows it there first).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emotrace.data.photo_crops import load_photo_crops
from emotrace.eval.evaluation import Evaluation
from emotrace.eval.metrics import classification_metrics
from emotrace.labels import EMOTIONS, canonical

if TYPE_CHECKING:
    from emotrace.types import Detections


def biggest_faces(paths: list[str], **options: Any) -> Iterator[tuple[int, Detections, int]]:
    """Each photo through `Analyzer(**options).stills` (the pipeline a user runs on photos, the temporal stage
    "ema" unless `options` say otherwise): (photo index, its faces, the index of the biggest), for photos with a
    face. The one way photo sets are scored, here and in benchmarks/."""
    from emotrace.pipeline import Analyzer
    from emotrace.sources.images import read_image
    from emotrace.types import Frame

    analyzer = Analyzer(**{"temporal": "ema", **options})
    try:
        frames = (Frame(index=i, timestamp=0.0, image=read_image(Path(p)), source=p) for i, p in enumerate(paths))
        for res in analyzer.stills(frames):
            f = res.faces
            if len(f):
                area = (f.boxes[:, 2] - f.boxes[:, 0]) * (f.boxes[:, 3] - f.boxes[:, 1])
                yield res.frame.index, f, int(np.argmax(area))
    finally:
        analyzer.close()


def photo_answers(frame_model: str, paths: list[str], runtime: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Per photo: the predicted class index into EMOTIONS (-1: no face found) and whether it was taken as a crop."""
    pred = np.full(len(paths), -1, np.int64)
    crop = np.zeros(len(paths), bool)
    for i, f, j in biggest_faces(paths, frame_model=frame_model, runtime=runtime):
        pred[i] = int(np.argmax(f.frame_probs[j]))
        crop[i] = bool(f.crop[j]) if f.crop is not None else False
    return pred, crop


# The photo kinds a set is scored on, where it has several: CK+'s apex frames and neutral first frames (the
# onset frames between are neither one emotion nor neutral).
SCORED_KINDS = {"ckplus": ("apex", "neutral")}

# What a photo-set evaluation keeps in a model card (`emotrace ship`).
CARD_FIELDS = ("accuracy", "uar", "per_class_recall", "predicted_share", "true_share", "neutral_share_gap", "n",
               "no_face", "taken_as_crop", "rows")


def scored_photos(root: str | Path, name: str, rows: str = "all", holdout_fraction: float = 0.25,
                  holdout_seed: int = 0, kinds: tuple[str, ...] | None = None
                  ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The photos of one set an evaluation scores, their labels in the seven emotions and their groups: `rows`
    all, or holdout (the groups a `mix` run held out with the same fraction and seed), on `SCORED_KINDS`' kinds
    unless `kinds` names others."""
    from emotrace.data.photo_crops import group_holdout

    pc = load_photo_crops(root, name)
    kinds = SCORED_KINDS.get(name, ()) if kinds is None else kinds
    keep = np.ones(len(pc), bool)
    if rows == "holdout":
        keep &= group_holdout(pc.groups, holdout_fraction, holdout_seed)
    if kinds:
        keep &= np.isin(pc.kind, kinds)
    names = [c if c == "contempt" else canonical(c) for c in pc.classes]
    to7 = np.array([EMOTIONS.index(n) if n in EMOTIONS else -1 for n in names])
    labels = to7[pc.labels]
    keep &= labels >= 0
    return pc.paths[keep].tolist(), labels[keep], pc.groups[keep]


def evaluate_photo_set(frame_model: str, root: str | Path, name: str, rows: str = "all",
                       holdout_fraction: float = 0.25, holdout_seed: int = 0,
                       kinds: tuple[str, ...] | None = None, runtime: str = "auto") -> dict[str, Any]:
    """Scores on the photos of one set: `rows` all, or holdout (the groups a `mix` run held out with the same
    fraction and seed), on the kinds of photo `SCORED_KINDS` names for the set unless `kinds` names others."""
    kinds = SCORED_KINDS.get(name, ()) if kinds is None else kinds
    paths, y, groups = scored_photos(root, name, rows, holdout_fraction, holdout_seed, kinds)
    pred, crop = photo_answers(frame_model, paths, runtime)
    k = len(EMOTIONS)
    answered = pred >= 0
    scored = np.where(answered, pred, (y + 1) % k)  # no face: a wrong answer
    m = classification_metrics(y, scored, k)
    m.update({"n": int(len(y)), "no_face": int((~answered).sum()), "taken_as_crop": int(crop.sum()),
              "predicted_share": (np.bincount(pred[answered], minlength=k) / max(1, answered.sum())).tolist(),
              "true_share": (np.bincount(y, minlength=k) / max(1, len(y))).tolist(),
              "rows": rows, "kinds": list(kinds), "frame_model": frame_model, "groups": int(len(set(
                  groups.tolist())))})
    neutral = EMOTIONS.index("neutral")
    m["neutral_share_gap"] = m["predicted_share"][neutral] - m["true_share"][neutral]
    return m


def photo_evaluation(frame_model: str, root: str | Path, name: str, rows: str = "all",
                     holdout_fraction: float = 0.25, holdout_seed: int = 0) -> Evaluation:
    """`evaluate_photo_set` as an `Evaluation`."""
    m = evaluate_photo_set(frame_model, root, name, rows, holdout_fraction, holdout_seed)
    return Evaluation({**m, "data": str(root)}, title=f"{frame_model} on the {name} photos ({rows}) through the "
                      "pipeline", classes=EMOTIONS)
