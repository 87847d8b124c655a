"""Reading a finished job's files for the API: which formats exist, table pages, the JSON array, per-track charts.

File names come from the output registry (emotrace.outputs); a request names a format or a track number, never a
path, so nothing a client sends reaches the file system.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emotrace.outputs import OUTPUTS, TABLE_STEM, output_file, track_of
from emotrace.outputs import summary_tracks as track_briefs

# format -> (file written by the sinks, media type, download name); every single-file output of the registry (the
# annotated photo, "image", of image jobs only), plus "json": the JSON Lines rows served as one JSON array.
RESULT_FILES: dict[str, tuple[str, str, str]] = {}
for _name, _o in OUTPUTS.items():
    if _o.web and "{track}" not in _o.file:
        RESULT_FILES[_name] = (_o.file, _o.media_type, _o.file)
    if _name == "jsonl":
        RESULT_FILES["json"] = (_o.file, "application/json", f"{TABLE_STEM}.json")
RESULT_MEDIA_TYPES = sorted({m for _, m, _ in RESULT_FILES.values()})


def available_formats(outputs: list[str]) -> list[str]:
    """The formats a job can serve, from the file names its run wrote."""
    have = set(outputs)
    return [fmt for fmt, (name, _, _) in RESULT_FILES.items() if name in have]


def timeline_tracks(outputs: list[str]) -> list[int]:
    """Track ids that have a timeline chart."""
    return sorted(t for t in (track_of("timeline", n) for n in outputs) if t is not None)


def timeline_file(out_dir: Path, track_id: int) -> Path:
    return out_dir / output_file("timeline", track_id)


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


def summary_tracks(out_dir: Path) -> list[dict[str, Any]]:
    """The per-track brief of a job's summary (id, times, dominant emotion, ...), for the results page; none
    when the job wrote no readable summary."""
    try:
        data = json.loads((out_dir / output_file("summary")).read_text())
    except (OSError, ValueError):
        return []
    return track_briefs(data)
