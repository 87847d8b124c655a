"""Changing only `--outputs` to add a table format (csv, parquet, jsonl) does not analyse an item again (issue 24):
the item's rows are already in the collection dataset (`rows/<id>.parquet`, every column of the table, float64,
so the values round-trip exactly), and the new files are written from them by the same `TableSink` a run uses.
Outputs that need the video's pixels or the run's results (annotated video, timelines, report, summary, landmarks)
still need the item analysed again."""

from __future__ import annotations

import json
from typing import Any

from emotrace.batch.store import BatchStore
from emotrace.outputs import ALL_OUTPUTS, OUTPUTS, output_file, track_of

TABLES = frozenset(n for n in ALL_OUTPUTS if OUTPUTS[n].sink == "TableSink")


def outputs_of(rec: dict[str, Any]) -> set[str]:
    """The outputs an item's record says it has (`output_names`; older records: read off its file names)."""
    if rec.get("output_names") is not None:
        return set(rec["output_names"])
    files = set(rec.get("outputs") or [])
    return {n for n in ALL_OUTPUTS if output_file(n, 0) in files or any(track_of(n, f) is not None for f in files)}


def missing_outputs(rec: dict[str, Any], wanted: tuple[str, ...]) -> list[str]:
    have = outputs_of(rec)
    return [n for n in wanted if n not in have]


def write_tables(store: BatchStore, rec: dict[str, Any], names: list[str]) -> None:
    """Write the table outputs `names` of a done item from its stored rows, and add them to its record."""
    import pyarrow.parquet as pq

    from emotrace.sinks.base import RunMeta
    from emotrace.sinks.table import TableSink

    folder = store.items / rec["id"]
    pf = pq.ParquetFile(store.rows_path(rec["id"]))
    raw = (pf.schema_arrow.metadata or {}).get(b"emotrace")
    meta = RunMeta(source=rec["path"], classes=list(rec.get("label_counts") or {}), fps=rec.get("fps"),
                   analyzer=rec.get("analyzer") or {}, provenance=json.loads(raw) if raw else {})
    sinks = [TableSink(folder / output_file(n), n) for n in names]
    for s in sinks:
        s.open(meta)
    try:
        columns = sinks[0].columns  # the table's own columns: the dataset's item, path and manifest columns left out
        for batch in pf.iter_batches(columns=columns):
            rows = batch.to_pylist()
            for s in sinks:
                s.write_rows(rows)
        for s in sinks:
            s.close()
    except BaseException:
        for s in sinks:
            s.abort()
        raise
    files = set(rec.get("outputs") or []) | {output_file(n) for n in names}
    rec.update(outputs=sorted(files - {"item.json"}) + ["item.json"],
               output_names=sorted(outputs_of(rec) | set(names)))
    store.write_record(rec)


def table_only(missing: list[str]) -> bool:
    return bool(missing) and set(missing) <= TABLES


__all__ = ["TABLES", "missing_outputs", "outputs_of", "table_only", "write_tables"]
