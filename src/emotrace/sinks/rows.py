"""The one result schema: one table row per (frame, face), and one row with empty face fields for a frame without
faces. The fields and their names are the per-face record's (`emotrace.results`); their types are declared here
once. Every table output, `analyze()`'s DataFrame, the collection dataset of `emotrace batch` and the web app's
table pages follow it."""

from __future__ import annotations

import weakref
from typing import Any

from emotrace.results import FRAME_FIELDS, FrameResult, face_fields

# Column -> type, for the columns whose type is not float64 (the probabilities, boxes and scores are).
_TYPES = {"file": "string", "frame": "int64", "n_faces": "int64", "track_id": "int64", "detected": "bool",
          "crop": "bool", "label": "string", "frame_label": "string", "signals": "string",
          "signals_quality": "string", "person_id": "int64", "person_basis": "string"}


def row_columns(classes: list[str], with_va: bool = False, with_signals: bool = False,
                with_people: bool = False) -> list[str]:
    """Column order of every table output: the frame's fields, then the face's."""
    return [*FRAME_FIELDS, *face_fields(classes, with_va, with_signals, with_people)]


def column_types(classes: list[str], with_va: bool = False, with_signals: bool = False,
                 with_people: bool = False) -> dict[str, str]:
    """Column -> one of int64, float64, bool, string, in table order."""
    return {c: _TYPES.get(c, "float64") for c in row_columns(classes, with_va, with_signals, with_people)}


def arrow_schema(classes: list[str], with_va: bool = False, metadata: dict[bytes, bytes] | None = None,
                 with_signals: bool = False, with_people: bool = False) -> Any:
    """The schema as a pyarrow schema (Parquet outputs)."""
    import pyarrow as pa

    kinds = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(), "string": pa.string()}
    types = column_types(classes, with_va, with_signals, with_people)
    return pa.schema([pa.field(c, kinds[t]) for c, t in types.items()], metadata=metadata)


def pandas_dtypes(classes: list[str], with_va: bool = False, with_signals: bool = False,
                  with_people: bool = False) -> dict[str, str]:
    """The schema as pandas dtypes (nullable where a frame without faces leaves a cell empty)."""
    kinds = {"int64": "Int64", "float64": "float64", "bool": "boolean", "string": "string"}
    return {c: kinds[t] for c, t in column_types(classes, with_va, with_signals, with_people).items()}


def row_shape(analyzer: dict[str, Any]) -> dict[str, bool]:
    """Which optional columns a run's rows have, from its analyzer's description: the keyword arguments of the
    functions above (`with_va`, `with_signals`, `with_people`)."""
    return {"with_va": bool(analyzer.get("valence_arousal")), "with_signals": bool(analyzer.get("signals")),
            "with_people": bool(analyzer.get("people"))}


_last: tuple[Any, tuple[tuple[str, ...], bool, bool, bool], list[dict[str, Any]]] | None = None


def result_rows(res: FrameResult, classes: list[str], with_va: bool = False, with_signals: bool = False,
                with_people: bool = False) -> list[dict[str, Any]]:
    """Rows for one frame. `file` is the file the frame came from (each photo of a folder names its own);
    `label` is the temporal model's top class; `frame_label` the frame model's.

    The rows of the last frame asked for are kept (by identity of the result), so CSV, Parquet and JSON Lines
    outputs of one run build them once; callers must not modify them."""
    global _last
    key = (tuple(classes), with_va, with_signals, with_people)
    last = _last  # one read: another thread may replace it meanwhile
    if last is not None and last[0]() is res and last[1] == key:
        return last[2]
    rows = _rows(res, classes, with_va, with_signals, with_people)
    _last = (weakref.ref(res), key, rows)
    return rows


def _rows(res: FrameResult, classes: list[str], with_va: bool, with_signals: bool,
          with_people: bool) -> list[dict[str, Any]]:
    base = res.frame_fields()
    records = res.records()
    if not records:
        row = dict.fromkeys(row_columns(classes, with_va, with_signals, with_people))
        row.update(base)
        return [row]
    return [{**base, **r.fields(classes, with_va, with_signals, with_people)} for r in records]
