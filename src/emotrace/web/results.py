"""Reading a finished job's files for the API: which formats exist, table pages, the JSON array, per-track charts.

File names are fixed by the sinks (emotrace.api.build_sinks); a request names a format or a track number, never a
path, so nothing a client sends reaches the file system.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# format -> (file written by the sinks, media type, download name)
RESULT_FILES: dict[str, tuple[str, str, str]] = {
    "csv": ("emotions.csv", "text/csv", "emotions.csv"),
    "parquet": ("emotions.parquet", "application/vnd.apache.parquet", "emotions.parquet"),
    "jsonl": ("emotions.jsonl", "application/x-ndjson", "emotions.jsonl"),
    "json": ("emotions.jsonl", "application/json", "emotions.json"),  # the JSON Lines rows as one JSON array
    "summary": ("summary.json", "application/json", "summary.json"),
    "video": ("annotated.mp4", "video/mp4", "annotated.mp4"),
    "image": ("annotated.png", "image/png", "annotated.png"),  # image jobs only
}
RESULT_MEDIA_TYPES = sorted({m for _, m, _ in RESULT_FILES.values()})
_TIMELINE = re.compile(r"^timeline_track(\d+)\.png$")


def available_formats(outputs: list[str]) -> list[str]:
    """The formats a job can serve, from the file names its run wrote."""
    have = set(outputs)
    return [fmt for fmt, (name, _, _) in RESULT_FILES.items() if name in have]


def timeline_tracks(outputs: list[str]) -> list[int]:
    """Track ids that have a timeline chart."""
    return sorted(int(m.group(1)) for m in (_TIMELINE.match(n) for n in outputs) if m)


def timeline_file(out_dir: Path, track_id: int) -> Path:
    return out_dir / f"timeline_track{int(track_id)}.png"


def json_array(jsonl: Path, chunk_rows: int = 2048) -> Iterator[bytes]:
    """Stream JSON Lines as one JSON array without loading the table into memory."""
    yield b"["
    first = True
    buf: list[str] = []
    with open(jsonl, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            buf.append(line if first else "," + line)
            first = False
            if len(buf) >= chunk_rows:
                yield "".join(buf).encode()
                buf = []
    if buf:
        yield "".join(buf).encode()
    yield b"]"


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def table_page(parquet: Path, offset: int, limit: int) -> dict[str, Any]:
    """Rows [offset, offset+limit) of the per-frame table, reading only the row groups needed."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(parquet)
    total = pf.metadata.num_rows
    columns = pf.schema_arrow.names
    rows: list[list[Any]] = []
    start = 0
    for g in range(pf.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if start + n > offset and start < offset + limit:
            tbl = pf.read_row_group(g)
            lo, hi = max(0, offset - start), min(n, offset + limit - start)
            part = tbl.slice(lo, hi - lo).to_pydict()
            rows += [[_clean(part[c][i]) for c in columns] for i in range(hi - lo)]
        start += n
        if start >= offset + limit:
            break
    return {"columns": columns, "rows": rows, "offset": offset, "total": total}


def summary_tracks(summary: Path) -> list[dict[str, Any]]:
    """Per-track lines of summary.json (id, times, dominant emotion), for the results page."""
    try:
        data = json.loads(summary.read_text())
    except (OSError, ValueError):
        return []
    keep = ("track_id", "start_s", "end_s", "frames", "dominant_emotion")
    return [{k: t.get(k) for k in keep} for t in data.get("tracks", [])]
