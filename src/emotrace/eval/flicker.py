"""Label flicker on real video: top-label changes per second per track, frame model vs temporal stage.

Every video runs through the full pipeline once; per track the frame model's and the temporal stage's top labels are
recorded on the same frames, and exponential smoothing (EMA, the stage used before a trained model shipped) is
replayed offline on the same frame probabilities as a third reference. Videos have no emotion labels, so this
measures stability only; accuracy on labelled sequences is `emotrace.eval.sequences`' job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emotrace.eval.sequences import label_changes

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".flv", ".m4v"}
MIN_TRACK_S = 1.0  # shorter tracks say little about flicker and are left out (counted)


def track_series(analyzer: Any, video: str | Path, fields: dict[str, str]) -> dict[int, dict[str, np.ndarray]]:
    """Per track of one video through `analyzer.stream`: its timestamps (`t`) and, under each name of `fields`,
    the per-face array of `Detections` that name maps to (e.g. {"probs": "frame_probs"}), one row per frame."""
    from emotrace.sources import open_source

    recs: dict[int, dict[str, list[Any]]] = {}
    with open_source(str(video)) as source:
        for res in analyzer.stream(source):
            faces = res.faces
            if not len(faces) or faces.track_id is None:
                continue
            for i, tid in enumerate(faces.track_id.tolist()):
                r = recs.setdefault(int(tid), {"t": [], **{name: [] for name in fields}})
                r["t"].append(res.frame.timestamp)
                for name, attr in fields.items():
                    r[name].append(getattr(faces, attr)[i])
    return {tid: {"t": np.asarray(r["t"], np.float64),
                  **{name: np.asarray(r[name], np.float32) for name in fields}} for tid, r in recs.items()}


def track_records(video: str | Path, temporal: str = "auto", **analyzer_options: Any) -> dict[int, dict[str, Any]]:
    """Per track of one video: timestamps, frame-model probabilities and temporal-stage probabilities."""
    from emotrace.pipeline import Analyzer

    analyzer = Analyzer(temporal=temporal, **analyzer_options)
    try:
        tracks = track_series(analyzer, video, {"frame": "frame_probs", "temporal": "temporal_probs"})
    finally:
        analyzer.close()
    return {tid: {**r, "temporal_stage": analyzer.temporal.name} for tid, r in tracks.items()}


def replay_ema(t: np.ndarray, probs: np.ndarray, tau_s: float = 0.4) -> np.ndarray:
    """EMA smoothing of one track's frame probabilities, as the pipeline's EMA stage would have produced."""
    from emotrace.models.temporal.filters import EmaTemporal

    ema = EmaTemporal(tau_s=tau_s)
    ids = np.zeros(1, np.int64)
    return np.stack([ema.step(ids, float(ti), p[None], np.zeros((1, 1), np.float32))["probs"][0]
                     for ti, p in zip(t, probs, strict=True)]) if len(t) else probs


def flicker(videos: list[Path], temporal: str = "auto", **analyzer_options: Any) -> dict[str, Any]:
    """Changes per second per track for the frame model, the temporal stage and EMA, over `videos`."""
    per_video = []
    totals = {"frame": 0, "temporal": 0, "ema": 0}
    seconds = 0.0
    agreement, frames = 0, 0
    short = 0
    stage = None
    for video in videos:
        tracks = track_records(video, temporal, **analyzer_options)
        rows = []
        for tid, rec in sorted(tracks.items()):
            t = rec["t"]
            stage = rec["temporal_stage"]
            duration = float(t[-1] - t[0]) if len(t) > 1 else 0.0
            if duration < MIN_TRACK_S:
                short += 1
                continue
            labels = {"frame": rec["frame"].argmax(1), "temporal": rec["temporal"].argmax(1),
                      "ema": replay_ema(t, rec["frame"]).argmax(1)}
            changes = {k: label_changes(v) for k, v in labels.items()}
            for k in totals:
                totals[k] += changes[k]
            seconds += duration
            agreement += int((labels["frame"] == labels["temporal"]).sum())
            frames += len(t)
            rows.append({"track": tid, "seconds": round(duration, 3), "frames": len(t),
                         **{f"{k}_changes_per_s": changes[k] / duration for k in totals}})
        per_video.append({"video": Path(video).name, "tracks": rows})
    rates = {f"{k}_changes_per_s": (v / seconds if seconds else None) for k, v in totals.items()}
    ratio = (rates["frame_changes_per_s"] / rates["temporal_changes_per_s"]
             if rates["temporal_changes_per_s"] else None)
    return {"temporal_stage": stage, "videos": len(videos), "track_seconds": seconds,
            "tracks_scored": sum(len(v["tracks"]) for v in per_video), "tracks_shorter_than_1s": short,
            **rates, "frame_over_temporal_ratio": ratio,
            "top_label_agreement_frame_vs_temporal": agreement / frames if frames else None,
            "per_video": per_video}


def videos_in(folder: str | Path) -> list[Path]:
    """The video files directly inside `folder`, sorted."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
