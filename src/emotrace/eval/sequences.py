"""Per-frame scores of label sequences: accuracy, flicker (top-label changes per second) and how fast a real
change of emotion is followed. The frame model and the temporal model are always scored on the same frames."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SETTLE_FRAMES = 5  # a change counts as "settled" once the new label has held this many frames in a row


def label_changes(pred: np.ndarray) -> int:
    """How often the top label switches along one track."""
    pred = np.asarray(pred)
    return int((pred[1:] != pred[:-1]).sum()) if len(pred) > 1 else 0


def change_latency(pred: np.ndarray, labels: np.ndarray, change_points: Sequence[int],
                   settle: int = SETTLE_FRAMES) -> list[tuple[int | None, int | None]]:
    """For each change point c (up to the next one): frames from c until the prediction first equals the new label,
    and until it has held it for `settle` frames in a row; None where that never happens before the next change."""
    out: list[tuple[int | None, int | None]] = []
    if len(change_points) == 0:
        return out
    ends = list(change_points[1:]) + [int((labels >= 0).sum())]
    for c, end in zip(change_points, ends, strict=True):
        hit = np.flatnonzero(pred[c:end] == labels[c])
        first = int(hit[0]) if len(hit) else None
        settled = None
        run = 0
        for k in range(c, end):
            run = run + 1 if pred[k] == labels[c] else 0
            if run >= settle:
                settled = k - settle + 1 - c
                break
        out.append((first, settled))
    return out


def _summarise(lat: list[tuple[int | None, int | None]]) -> dict[str, float | int | None]:
    first = [a for a, _ in lat if a is not None]
    settled = [b for _, b in lat if b is not None]
    n = len(lat)
    return {
        "changes": n,
        "followed_fraction": len(first) / n if n else None,
        "settled_fraction": len(settled) / n if n else None,
        "median_frames_to_follow": float(np.median(first)) if first else None,
        "p90_frames_to_follow": float(np.percentile(first, 90)) if first else None,
        "median_frames_to_settle": float(np.median(settled)) if settled else None,
        "p90_frames_to_settle": float(np.percentile(settled, 90)) if settled else None,
    }


def sequence_metrics(frame_probs: np.ndarray, temporal_probs: np.ndarray, labels: np.ndarray,
                     change_points: Sequence[np.ndarray], fps: float) -> dict[str, dict[str, object]]:
    """Scores of the frame model and the temporal model on labelled sequences (N, T); labels -1 mark padding."""
    res: dict[str, dict[str, object]] = {}
    mask = labels >= 0
    frames = int(mask.sum())
    true_changes = sum(len(c) for c in change_points)
    for name, probs in (("frame", frame_probs), ("temporal", temporal_probs)):
        pred = probs.argmax(-1)
        changes = sum(label_changes(pred[i][mask[i]]) for i in range(len(pred)))
        lat = [x for i in range(len(pred)) for x in change_latency(pred[i], labels[i], list(change_points[i]))]
        res[name] = {
            "frame_accuracy": float((pred == labels)[mask].mean()) if frames else None,
            "label_changes_per_s": changes / (frames / fps) if frames else None,
            **_summarise(lat),
        }
    res["truth"] = {"frames": frames, "sequences": int(len(labels)), "fps_assumed": fps,
                    "label_changes_per_s": true_changes / (frames / fps) if frames else None}
    return res
