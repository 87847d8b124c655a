"""The temporal benchmark: every temporal stage scored on the same frames, on steadiness, accuracy and lag.

Why one place: a stage that flickers less is only better if it is not simply later or less accurate, so every
method is run over the same recorded frame-model outputs and scored on all three:

- real unlabelled video (`media`): each video goes through the pipeline once; per track the timestamps, frame
  probabilities and embeddings are kept, and every stage is replayed on them (top-label changes per second, and
  the mean total-variation distance between consecutive probability vectors);
- labelled rendered sequences (FER+ Valid stills with head motion, blur, light, noise and occlusion; CK+ test
  clips), at 30 fps and the same sequences at 15 fps: per-frame accuracy, changes per second, frames to follow
  a change (median, p90; counted in 30 fps frames at both rates);
- stages are created by name through `create_temporal` (what the pipeline runs), so a number here is a number
  of the pipeline. Offline stages are replayed frame by frame and settled at the end of each track.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emotrace.eval.flicker import track_series
from emotrace.eval.sequence_features import SequenceFeatures
from emotrace.eval.sequences import change_latency, label_changes

log = logging.getLogger("emotrace")

FPS = 30.0
EMA_TAUS = (0.1, 0.2, 0.3, 0.4, 0.6, 0.9)
HMM_RATES = (4.0, 2.0, 1.0, 0.5, 0.25)


def default_methods(models: Sequence[str]) -> list[str]:
    """Frame model, EMA at several time constants, the online HMM decoder at several switch rates, then `models`
    (shipped names or run folders; `NAME+lookahead` for the offline decoder over NAME)."""
    return ["frame", *(f"ema:{t:g}" for t in EMA_TAUS), *(f"hmm:{r:g}" for r in HMM_RATES), *models]


def replay(stage: Any, t: np.ndarray, probs: np.ndarray, emb: np.ndarray, present: np.ndarray | None = None,
           ) -> np.ndarray:
    """Run a temporal stage over N tracks sharing timestamps t (T,): probs (N, T, C), emb (N, T, D); `present`
    (N, T) marks the frames each track has. Returns (N, T, C) outputs (frame probs where absent)."""
    n, steps = probs.shape[:2]
    present = np.ones((n, steps), bool) if present is None else present
    out = probs.astype(np.float32).copy()
    stage.reset()
    written: list[tuple[np.ndarray, np.ndarray, int]] = []
    for k in range(steps):
        ids = np.flatnonzero(present[:, k])
        if not len(ids):
            continue
        res = stage.step(ids.astype(np.int64), float(t[k]), probs[ids, k].astype(np.float32),
                         emb[ids, k].astype(np.float32))
        written.append((res["probs"], ids, k))
    stage.settle(float("inf"))
    for arr, ids, k in written:  # offline stages fill their arrays in place until settled
        out[ids, k] = arr
    stage.reset()
    return out


def _stage(name: str, frame_model: str) -> Any:
    from emotrace.models.temporal.factory import create_temporal

    return None if name == "frame" else create_temporal(name, frame_model=frame_model)


def _run(name: str, frame_model: str, t: np.ndarray, probs: np.ndarray, emb: np.ndarray,
         present: np.ndarray | None = None) -> np.ndarray:
    stage = _stage(name, frame_model)
    return probs if stage is None else replay(stage, t, probs, emb, present)


# ----------------------------------------------------------------------------------------------- real video

def record_tracks(videos: Sequence[Path], frame_model: str = "default") -> list[dict[str, np.ndarray]]:
    """Every track of every video through the pipeline once: t (T,), frame probs (T, C), embeddings (T, D)."""
    from emotrace.pipeline import Analyzer

    analyzer = Analyzer(temporal="ema", frame_model=frame_model, threads=1)
    tracks: list[dict[str, np.ndarray]] = []
    try:
        for video in videos:
            analyzer.reset()
            recs = track_series(analyzer, video, {"probs": "frame_probs", "emb": "embedding"})
            tracks += [{"video": np.array(Path(video).name), "track": np.array(tid), **r}
                       for tid, r in sorted(recs.items())]
    finally:
        analyzer.close()
    return tracks


def steadiness(tracks: list[dict[str, np.ndarray]], method: str, frame_model: str, min_s: float = 1.0,
               ) -> dict[str, float]:
    """Top-label changes per second of tracked face, and mean total-variation distance between consecutive
    probability vectors, over tracks of at least `min_s` seconds."""
    changes, seconds, dist, pairs = 0, 0.0, 0.0, 0
    for tr in tracks:
        t = tr["t"]
        if len(t) < 2 or t[-1] - t[0] < min_s:
            continue
        out = _run(method, frame_model, t, tr["probs"][None], tr["emb"][None])[0]
        changes += label_changes(out.argmax(1))
        seconds += float(t[-1] - t[0])
        dist += float(0.5 * np.abs(np.diff(out, axis=0)).sum())
        pairs += len(t) - 1
    return {"label_changes_per_s": changes / seconds if seconds else float("nan"),
            "mean_step_distance": dist / pairs if pairs else float("nan"), "track_seconds": seconds}


# ------------------------------------------------------------------------------------ labelled sequences

def at_rate(feats: SequenceFeatures, stride: int) -> tuple[SequenceFeatures, np.ndarray]:
    """The sequences seen at 1/stride of the frame rate (every stride-th frame); returns them and the kept 30 fps
    frame indices (for lag in 30 fps frames)."""
    keep = np.arange(0, feats.labels.shape[1], stride)
    lab = feats.labels[:, keep]
    cps = [np.flatnonzero(lab[i, 1:][lab[i, 1:] >= 0] != lab[i, :-1][lab[i, 1:] >= 0]) + 1 for i in range(len(lab))]
    return SequenceFeatures(feats.embedding[:, keep], feats.frame_probs[:, keep], feats.targets[:, keep], lab,
                            cps), keep


def sequence_scores(feats: SequenceFeatures, method: str, frame_model: str, stride: int = 1) -> dict[str, float]:
    """Per-frame accuracy, changes per second and frames (at 30 fps) to follow a change, on labelled sequences."""
    sub, keep = at_rate(feats, stride)
    t = keep / FPS
    out = _run(method, frame_model, t, sub.frame_probs, sub.embedding, sub.mask)
    pred = out.argmax(-1)
    mask = sub.mask
    frames = int(mask.sum())
    changes = sum(label_changes(pred[i][mask[i]]) for i in range(len(pred)))
    follow = [a * stride for i in range(len(pred))
              for a, _ in change_latency(pred[i], sub.labels[i], list(sub.change_points[i])) if a is not None]
    total = sum(len(c) for c in sub.change_points)
    return {"frame_accuracy": float((pred == sub.labels)[mask].mean()),
            "label_changes_per_s": changes / (frames / (FPS / stride)),
            "median_frames_to_follow": float(np.median(follow)) if follow else float("nan"),
            "p90_frames_to_follow": float(np.percentile(follow, 90)) if follow else float("nan"),
            "mean_frames_to_follow": float(np.mean(follow)) if follow else float("nan"),
            "followed_fraction": len(follow) / total if total else float("nan")}


def labelled_sets(ferplus_root: str, ckplus_root: str, frame_model: str, cache: Path,
                  valid_sequences: int = 300, length: int = 96, seed: int = 0) -> dict[str, SequenceFeatures]:
    """FER+ Valid sequences and CK+ test clips after `frame_model`, cached (the names temporal training uses, so
    a training run's feature folder can be reused)."""
    from emotrace.data.rendered import ckplus_subjects, ckplus_test_clips, ferplus_sequences
    from emotrace.eval.sequence_features import featurise
    from emotrace.models.runtime import FrameModelRunner

    cache.mkdir(parents=True, exist_ok=True)
    runner: list[FrameModelRunner] = []

    def get(name: str, build: Any) -> SequenceFeatures:
        path = cache / name
        if path.is_file():
            return SequenceFeatures.load(path)
        if not runner:
            runner.append(FrameModelRunner(frame_model, runtime="auto", threads=1))
        feats = featurise(build(), runner[0])
        tmp = path.with_name(path.stem + ".tmp.npz")
        feats.save(tmp)
        tmp.replace(path)
        return feats

    out = {"ferplus_valid": get(f"ferplus-valid-{valid_sequences}x{length}.npz", lambda: ferplus_sequences(
        ferplus_root, "valid", valid_sequences, length, seed + 1))}
    if Path(ckplus_root).is_dir():
        out["ckplus_test_seen"] = get("ckplus-test.npz",
                                      lambda: ckplus_test_clips(ckplus_subjects(ckplus_root), seed)[0])
    return out


# ------------------------------------------------------------------------------------------------ the whole

def run_benchmark(methods: Sequence[str], frame_model: str, media: str | None, ferplus_root: str,
                  ckplus_root: str, cache: Path, features: Path | None = None) -> dict[str, Any]:
    """Every method on every data set this machine has; see the module docstring. `cache` keeps the recorded
    video tracks; `features` (default `cache`) the labelled sequences after the frame model (a temporal training
    run's feature folder has the same files)."""
    from emotrace.eval.flicker import videos_in

    res: dict[str, Any] = {"frame_model": frame_model, "methods": list(methods), "fps": FPS, "results": {}}
    tracks = []
    if media and Path(media).is_dir():
        rec = cache / "media-tracks.npz"
        if rec.is_file():
            z = np.load(rec, allow_pickle=True)
            tracks = list(z["tracks"])
        else:
            tracks = record_tracks(videos_in(media), frame_model)
            cache.mkdir(parents=True, exist_ok=True)
            np.savez(rec, tracks=np.array(tracks + [None], dtype=object)[:-1])
    sets = labelled_sets(ferplus_root, ckplus_root, frame_model, features or cache)
    for m in methods:
        row: dict[str, Any] = {}
        if tracks:
            row["media"] = steadiness(tracks, m, frame_model)
        for name, feats in sets.items():
            row[name] = sequence_scores(feats, m, frame_model)
            if name == "ferplus_valid":
                row[name + "_15fps"] = sequence_scores(feats, m, frame_model, stride=2)
        res["results"][m] = row
        log.info("%s: %s", m, json.dumps(row, default=float))
    res["labelled_video"] = "none on this machine: no dataset here has video with per-frame emotion labels"
    return res
