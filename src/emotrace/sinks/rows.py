"""The one result schema: one table row per (frame, face), and one row with empty face fields for a frame without
faces. Column names and their types are declared here once; every table output, `analyze()`'s DataFrame, the
collection dataset of `emotrace batch` and the web app's table pages follow it."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from emotrace.results import FrameResult

# Column -> type, for the columns whose type is not float64 (the probabilities, boxes and scores are).
_TYPES = {"file": "string", "frame": "int64", "n_faces": "int64", "track_id": "int64", "detected": "bool",
          "crop": "bool", "label": "string", "frame_label": "string"}


def row_columns(classes: list[str], with_va: bool = False) -> list[str]:
    """Column order of every table output."""
    cols = ["file", "frame", "timestamp", "n_faces", "track_id", "x1", "y1", "x2", "y2", "det_score", "detected",
            "crop"]
    cols += [f"frame_{c}" for c in classes] + [f"temporal_{c}" for c in classes]
    cols += ["label", "label_prob", "frame_label"]
    if with_va:
        cols += ["valence", "arousal"]
    return cols


def column_types(classes: list[str], with_va: bool = False) -> dict[str, str]:
    """Column -> one of int64, float64, bool, string, in table order."""
    return {c: _TYPES.get(c, "float64") for c in row_columns(classes, with_va)}


def arrow_schema(classes: list[str], with_va: bool = False, metadata: dict[bytes, bytes] | None = None) -> Any:
    """The schema as a pyarrow schema (Parquet outputs)."""
    import pyarrow as pa

    kinds = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(), "string": pa.string()}
    return pa.schema([pa.field(c, kinds[t]) for c, t in column_types(classes, with_va).items()], metadata=metadata)


def pandas_dtypes(classes: list[str], with_va: bool = False) -> dict[str, str]:
    """The schema as pandas dtypes (nullable where a frame without faces leaves a cell empty)."""
    kinds = {"int64": "Int64", "float64": "float64", "bool": "boolean", "string": "string"}
    return {c: kinds[t] for c, t in column_types(classes, with_va).items()}


_last: tuple[Any, tuple[tuple[str, ...], bool], list[dict[str, Any]]] | None = None


def result_rows(res: FrameResult, classes: list[str], with_va: bool = False) -> list[dict[str, Any]]:
    """Rows for one frame. `file` is the file the frame came from (each photo of a folder names its own);
    `label` is the temporal model's top class; `frame_label` the frame model's.

    The rows of the last frame asked for are kept (by identity of the result), so CSV, Parquet and JSON Lines
    outputs of one run build them once; callers must not modify them."""
    global _last
    key = (tuple(classes), with_va)
    last = _last  # one read: another thread may replace it meanwhile
    if last is not None and last[0]() is res and last[1] == key:
        return last[2]
    rows = _rows(res, classes, with_va)
    _last = (weakref.ref(res), key, rows)
    return rows


def _rows(res: FrameResult, classes: list[str], with_va: bool) -> list[dict[str, Any]]:
    f = res.faces
    base = {"file": res.frame.source, "frame": res.frame.index, "timestamp": round(float(res.frame.timestamp), 6),
            "n_faces": len(f)}
    if len(f) == 0:
        row = dict.fromkeys(row_columns(classes, with_va))
        row.update(base)
        return [row]
    fp, tp = f.frame_probs, f.temporal_probs
    va = f.valence_arousal
    rows = []
    for i in range(len(f)):
        x1, y1, x2, y2 = (round(float(v), 1) for v in f.boxes[i])
        top = int(np.argmax(tp[i]))
        row = {**base, "track_id": int(f.track_id[i]), "x1": x1, "y1": y1, "x2": x2, "y2": y2,
               "det_score": round(float(f.scores[i]), 4), "detected": bool(res.detected),
               "crop": bool(f.crop[i]) if f.crop is not None else False}
        row.update({f"frame_{c}": round(float(fp[i, k]), 5) for k, c in enumerate(classes)})
        row.update({f"temporal_{c}": round(float(tp[i, k]), 5) for k, c in enumerate(classes)})
        row.update({"label": classes[top], "label_prob": round(float(tp[i, top]), 5),
                    "frame_label": classes[int(np.argmax(fp[i]))]})
        if with_va:
            row["valence"] = None if va is None else round(float(va[i, 0]), 5)
            row["arousal"] = None if va is None else round(float(va[i, 1]), 5)
        rows.append(row)
    return rows
