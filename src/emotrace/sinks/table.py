"""The per-frame table as CSV, Parquet or JSON Lines, streamed to disk in chunks (memory stays flat)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from emotrace.pipeline import FrameResult
from emotrace.sinks.base import RunMeta, Sink, atomic_path, discard, publish
from emotrace.sinks.rows import arrow_schema, result_rows, row_columns

FORMATS = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}


class TableSink(Sink):
    """Writes `path` in `fmt` (csv | parquet | jsonl).

    `prefix` holds constant leading columns written on every row (a batch item's id, path and manifest metadata),
    typed by `prefix_fields` (pyarrow fields) in Parquet.
    """

    def __init__(self, path: str | Path, fmt: str, chunk_rows: int = 4096, prefix: dict[str, Any] | None = None,
                 prefix_fields: list[Any] | None = None) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown table format {fmt!r}")
        self.path, self.fmt, self.chunk_rows = Path(path), fmt, chunk_rows
        self.tmp = atomic_path(self.path)
        self.prefix = dict(prefix or {})
        self.prefix_fields = list(prefix_fields or [])
        self._buf: list[dict[str, Any]] = []

    def open(self, meta: RunMeta) -> None:
        super().open(meta)
        self.with_va = bool(meta.analyzer.get("valence_arousal"))
        self.columns = list(self.prefix) + row_columns(meta.classes, self.with_va)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt == "parquet":
            import pyarrow as pa  # here, not at the top: CSV and JSON Lines runs never load pyarrow
            import pyarrow.parquet as pq

            base = arrow_schema(meta.classes, self.with_va)
            fields = self.prefix_fields or [pa.field(k, pa.string()) for k in self.prefix]
            self.schema = pa.schema(list(fields) + list(base),
                                    metadata={b"emotrace": json.dumps(meta.provenance).encode()})
            self._pq = pq.ParquetWriter(self.tmp, self.schema)
        else:
            self._fh = open(self.tmp, "w", newline="")
            if self.fmt == "csv":
                self._csv = csv.DictWriter(self._fh, fieldnames=self.columns)
                self._csv.writeheader()

    def write(self, result: FrameResult) -> None:
        rows = result_rows(result, self.meta.classes, self.with_va)
        if self.prefix:
            rows = [{**self.prefix, **r} for r in rows]
        self._buf.extend(rows)
        if len(self._buf) >= self.chunk_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._buf:
            return
        if self.fmt == "parquet":
            import pyarrow as pa

            cols = {c: [r.get(c) for r in self._buf] for c in self.columns}
            self._pq.write_table(pa.table(cols, schema=self.schema))
        elif self.fmt == "csv":
            self._csv.writerows(self._buf)
        else:
            for r in self._buf:
                self._fh.write(json.dumps(r, separators=(",", ":"), default=str) + "\n")
        self._buf = []

    def close(self) -> list[Path]:
        self._flush()
        if self.fmt == "parquet":
            self._pq.close()
        else:
            self._fh.close()
        return [publish(self.tmp, self.path)]

    def abort(self) -> None:
        try:
            if self.fmt == "parquet":
                self._pq.close()
            else:
                self._fh.close()
        except Exception:
            pass
        discard(self.tmp)
