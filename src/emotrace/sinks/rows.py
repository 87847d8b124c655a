"""One table row per (frame, face), and one row with empty face fields for a frame without faces."""

from __future__ import annotations

from typing import Any

import numpy as np

from emotrace.pipeline import FrameResult


def row_columns(classes: list[str], with_va: bool = False) -> list[str]:
    """Column order of every table output."""
    cols = ["frame", "timestamp", "n_faces", "track_id", "x1", "y1", "x2", "y2", "det_score", "detected"]
    cols += [f"frame_{c}" for c in classes] + [f"temporal_{c}" for c in classes]
    cols += ["label", "label_prob", "frame_label"]
    if with_va:
        cols += ["valence", "arousal"]
    return cols


def result_rows(res: FrameResult, classes: list[str], with_va: bool = False) -> list[dict[str, Any]]:
    """Rows for one frame. `label` is the temporal model's top class; `frame_label` the frame model's."""
    f = res.faces
    base = {"frame": res.frame.index, "timestamp": round(float(res.frame.timestamp), 6), "n_faces": len(f)}
    if len(f) == 0:
        row = dict.fromkeys(row_columns(classes, with_va))
        row.update(base)
        return [row]
    fp, tp = f.data["frame_probs"], f.data["temporal_probs"]
    va = f.data.get("valence_arousal")
    rows = []
    for i in range(len(f)):
        x1, y1, x2, y2 = (round(float(v), 1) for v in f.boxes[i])
        top = int(np.argmax(tp[i]))
        row = {**base, "track_id": int(f.track_id[i]), "x1": x1, "y1": y1, "x2": x2, "y2": y2,
               "det_score": round(float(f.scores[i]), 4), "detected": bool(res.detected)}
        row.update({f"frame_{c}": round(float(fp[i, k]), 5) for k, c in enumerate(classes)})
        row.update({f"temporal_{c}": round(float(tp[i, k]), 5) for k, c in enumerate(classes)})
        row.update({"label": classes[top], "label_prob": round(float(tp[i, top]), 5),
                    "frame_label": classes[int(np.argmax(fp[i]))]})
        if with_va:
            row["valence"] = None if va is None else round(float(va[i, 0]), 5)
            row["arousal"] = None if va is None else round(float(va[i, 1]), 5)
        rows.append(row)
    return rows
