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
from emotrace.outputs import summary_persons as person_briefs
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


ARCHIVE = "results.zip"  # beside the job's out/ folder, so it is never one of its own entries
_PACKED = (".mp4", ".png", ".parquet")  # compressed already: stored as they are, not deflated again


def archive(out_dir: Path, outputs: list[str]) -> Path:
    """Every file the job wrote, in one zip (built once, on first request; the job's files never change once it
    is done). Written to a temporary name and renamed, so a second request meanwhile never reads half a zip."""
    import os
    import tempfile
    import zipfile

    target = out_dir.parent / ARCHIVE
    if target.exists():
        return target
    fd, tmp = tempfile.mkstemp(dir=out_dir.parent, suffix=".zip.part")
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w") as zf:
            for name in sorted(set(outputs)):
                path = out_dir / Path(name).name  # the worker's names are plain file names; never a path
                if path.is_file():
                    packed = path.suffix in _PACKED
                    zf.write(path, path.name, zipfile.ZIP_STORED if packed else zipfile.ZIP_DEFLATED)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


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


def _summary(out_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((out_dir / output_file("summary")).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def summary_tracks(out_dir: Path) -> list[dict[str, Any]]:
    """The per-track brief of a job's summary (id, times, dominant emotion, ...), for the results page; none
    when the job wrote no readable summary."""
    return track_briefs(_summary(out_dir))


def summary_persons(out_dir: Path) -> list[dict[str, Any]]:
    """The per-person brief of a job's summary (its tracks, emotions over all their frames); none when linking was
    off or the job wrote no readable summary (the page then shows the tracks alone)."""
    return person_briefs(_summary(out_dir))


# The blendshapes the results page plots until the user picks others (smiles, frowning brows, an open jaw, a blink).
DEFAULT_BLENDSHAPES = ("mouthSmileLeft", "mouthSmileRight", "browDownLeft", "browDownRight", "jawOpen",
                       "eyeBlinkLeft")


def signal_columns(parquet: Path) -> list[str]:
    """The blendshape names (without `bs_`) of a job's table; empty when it was run without signals."""
    import pyarrow.parquet as pq

    names = pq.ParquetFile(parquet).schema_arrow.names
    return [c[3:] for c in names if c.startswith("bs_")] if "signals" in names else []


def signal_series(parquet: Path, names: list[str], max_windows: int = 400) -> dict[str, Any]:
    """Per track, the chosen blendshapes and the head pose over time: means of the measured frames in windows
    sized to the track's duration (at most `max_windows`; empty windows left out), reading only those columns."""
    import numpy as np
    import pyarrow.parquet as pq

    from emotrace.results import POSE_FIELDS
    from emotrace.sinks.windows import windows

    series = [*names, *POSE_FIELDS]
    cols = ["track_id", "timestamp", "signals", *(f"bs_{n}" for n in names), *POSE_FIELDS]
    tbl = pq.read_table(parquet, columns=cols).to_pydict()
    keep = [i for i, s in enumerate(tbl["signals"]) if s == "measured"]
    tid = np.array([tbl["track_id"][i] for i in keep], np.int64)
    t = np.array([tbl["timestamp"][i] for i in keep], np.float64)
    values = np.array([[np.nan if tbl[c][i] is None else tbl[c][i] for c in cols[3:]] for i in keep],
                      np.float64).reshape(len(keep), len(series))
    tracks = []
    for track in np.unique(tid):
        sel = tid == track
        w = windows(t[sel], values[sel], max_windows)
        full = w.frames > 0
        mid = (w.start + w.end) / 2
        tracks.append({"track_id": int(track), "window_s": w.width_s,
                       "t": [round(float(x), 3) for x in mid[full]],
                       "values": {n: [_clean(round(float(v), 3)) for v in w.shares[full, k]]
                                  for k, n in enumerate(series)}})
    return {"blendshapes": signal_columns(parquet), "names": series, "tracks": tracks}
