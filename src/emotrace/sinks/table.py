"""The per-frame table as CSV, Parquet or JSON Lines, streamed to disk as it comes (memory stays flat).

CSV and JSON Lines rows go straight to the (buffered) file. Parquet needs row groups: rows are turned into compact
Arrow record batches every `BATCH_ROWS` and a row group of `chunk_rows` is written from those, so at most a few
hundred rows are ever held as Python dicts (4,096 dict rows per table sink were about 10 MB each, a sawtooth that
three table outputs tripled).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emotrace.results import FrameResult
from emotrace.sinks.base import RunMeta, Sink, atomic_path, discard, publish
from emotrace.sinks.rows import arrow_schema, result_rows, row_columns, row_shape

FORMATS = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}
BATCH_ROWS = 256  # Parquet: dict rows held before they become an Arrow record batch


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
        self._buf: list[dict[str, Any]] = []  # Parquet: rows not yet in a record batch
        self._batches: list[Any] = []  # Parquet: record batches of the row group being filled
        self._batched_rows = 0

    def open(self, meta: RunMeta) -> None:
        super().open(meta)
        self.shape = row_shape(meta.analyzer)
        self.columns = list(self.prefix) + row_columns(meta.classes, **self.shape)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt == "parquet":
            import pyarrow as pa  # here, not at the top: CSV and JSON Lines runs never load pyarrow
            import pyarrow.parquet as pq

            base = arrow_schema(meta.classes, **self.shape)
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
        self.write_rows(result_rows(result, self.meta.classes, **self.shape))

    def write_rows(self, rows: list[dict[str, Any]]) -> None:
        """Write one frame's rows (`result_rows`; not modified here: `Tables` hands the same rows to every table)."""
        if self.prefix:
            rows = [{**self.prefix, **r} for r in rows]
        if self.fmt == "csv":
            self._csv.writerows(rows)
        elif self.fmt == "jsonl":
            self._fh.write("".join(json.dumps(r, separators=(",", ":"), default=str) + "\n" for r in rows))
        else:
            self._buf.extend(rows)
            if len(self._buf) >= min(BATCH_ROWS, self.chunk_rows):
                self._to_batch()
            if self._batched_rows >= self.chunk_rows:
                self._write_group()

    def _to_batch(self) -> None:
        """Parquet: the dict rows held so far as one Arrow record batch."""
        import pyarrow as pa

        if self._buf:
            cols = [pa.array([r.get(c) for r in self._buf], type=self.schema.field(c).type) for c in self.columns]
            self._batches.append(pa.RecordBatch.from_arrays(cols, schema=self.schema))
            self._batched_rows += len(self._buf)
            self._buf = []

    def _write_group(self) -> None:
        """Parquet: the record batches held so far as one row group."""
        import pyarrow as pa

        self._to_batch()
        if self._batches:
            self._pq.write_table(pa.Table.from_batches(self._batches, schema=self.schema))
            self._batches, self._batched_rows = [], 0

    def close(self) -> list[Path]:
        if self.fmt == "parquet":
            self._write_group()
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


class Tables(Sink):
    """The table outputs of one run (CSV, Parquet, JSON Lines) as one sink: a frame's rows are built once and go
    to every table, so a frame enters the row schema once however many tables it is written to. All in one folder
    (the folder `emotrace.api.run` locks)."""

    def __init__(self, tables: Sequence[TableSink]) -> None:
        if not tables or len({t.path.parent for t in tables}) != 1:
            raise ValueError("Tables needs one or more tables in one folder")
        self.tables = list(tables)
        self.path = self.tables[0].path  # its folder is the output folder

    def open(self, meta: RunMeta) -> None:
        super().open(meta)
        self.shape = row_shape(meta.analyzer)
        for t in self.tables:
            t.open(meta)

    def write(self, result: FrameResult) -> None:
        rows = result_rows(result, self.meta.classes, **self.shape)
        for t in self.tables:
            t.write_rows(rows)

    def close(self) -> list[Path]:
        written: list[Path] = []
        try:
            for t in self.tables:
                written += t.close()
        except BaseException:
            discard(*written)  # all or nothing: the tables already published go too (the caller aborts the rest)
            raise
        return written

    def abort(self) -> None:
        error: BaseException | None = None
        for t in self.tables:
            try:
                t.abort()
            except BaseException as exc:  # abort the others still (a second Ctrl-C), then raise the first
                error = error or exc
        if error is not None:
            raise error
