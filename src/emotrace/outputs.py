"""The output registry: every output a run can write, declared once by name with its files and media type.

`analyze`, `batch`, the web worker and the web app's result routes all choose outputs and find their files here,
so a name or file name is never restated elsewhere. Importing it is light (no model code): the web server reads
it without loading torch; the sink classes are imported when sinks are built.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emotrace.errors import EmotraceError

TABLE_STEM = "emotions"


@dataclass(frozen=True)
class Output:
    """One output: `file` is the name it writes in the output folder (a pattern with `{track}` for per-track
    files), `media_type` what it is served as, `sink` the sink class in `emotrace.sinks` that writes it (empty for a
    file that is not a choosable output); `web` whether the web app's jobs write and serve it."""

    name: str
    file: str
    media_type: str
    sink: str
    description: str
    web: bool = True
    in_all: bool = True  # written by `--outputs all` (not an output that needs an option set)


OUTPUTS: dict[str, Output] = {o.name: o for o in (
    Output("csv", f"{TABLE_STEM}.csv", "text/csv", "TableSink", "per-frame table, one row per (frame, face)"),
    Output("parquet", f"{TABLE_STEM}.parquet", "application/vnd.apache.parquet", "TableSink",
           "the per-frame table as Parquet"),
    Output("jsonl", f"{TABLE_STEM}.jsonl", "application/x-ndjson", "TableSink", "the per-frame table as JSON Lines"),
    Output("video", "annotated.mp4", "video/mp4", "VideoSink", "H.264 video with boxes, track ids and labels"),
    Output("timeline", "timeline_track{track}.png", "image/png", "TimelineSink",
           "one chart per track: emotion over time"),
    Output("summary", "summary.json", "application/json", "SummarySink",
           "per person and per track: times, dominant emotion, label distribution; and how the run was made"),
    # The web app's results page is its interactive view already, and its pages allow no inline scripts.
    Output("report", "report.html", "text/html", "ReportSink",
           "self-contained page with an interactive, zoomable timeline per person", web=False),
    Output("landmarks", "landmarks.parquet", "application/vnd.apache.parquet", "LandmarksSink",
           "478 face-mesh landmarks per measured face (needs --signals; not part of 'all')", web=False,
           in_all=False),
    # Not chosen with --outputs: the web worker writes it for a photo job (a one-frame video shows as a 0:00 clip).
    Output("image", "annotated.png", "image/png", "", "an image job's photo with boxes, track ids and labels"),
)}
ALL_OUTPUTS: tuple[str, ...] = tuple(n for n, o in OUTPUTS.items() if o.sink)
IN_ALL: tuple[str, ...] = tuple(n for n in ALL_OUTPUTS if OUTPUTS[n].in_all)  # what `--outputs all` writes
WEB_OUTPUTS: tuple[str, ...] = tuple(n for n in ALL_OUTPUTS if OUTPUTS[n].web)  # landmarks: too large to serve

# What a summary's per-track brief holds (a batch item's record, the web results page, `analyze`'s report), in order.
SUMMARY_TRACK_KEYS = ("track_id", "file", "frames", "start_s", "end_s", "dominant_emotion", "label_distribution")
# The same for each person of a summary (person linking on): its tracks inside, emotions over all its frames.
SUMMARY_PERSON_KEYS = ("person_id", "person_basis", "tracks", "frames", "start_s", "end_s", "seconds",
                       "dominant_emotion", "label_distribution")


def parse_outputs(text: str | Sequence[str]) -> tuple[str, ...]:
    """'all' or a comma list (or a sequence) of output names -> validated names, in the order given."""
    if isinstance(text, str):
        names = list(IN_ALL) if text.strip() == "all" else [x.strip() for x in text.split(",") if x.strip()]
    else:
        names = list(text)
    bad = [n for n in names if n not in ALL_OUTPUTS]
    if bad:
        raise EmotraceError(f"unknown output {bad[0]!r} (choose from {', '.join(ALL_OUTPUTS)}, or all)")
    if not names:
        raise EmotraceError(f"outputs must name at least one of {', '.join(ALL_OUTPUTS)} (or all)")
    return tuple(dict.fromkeys(names))


def make_sink(name: str, out_dir: str | Path) -> Any:
    """The sink that writes output `name` into `out_dir`."""
    from emotrace import sinks

    out = Path(out_dir)
    o = OUTPUTS[name]
    cls = getattr(sinks, o.sink)
    if o.sink == "TableSink":
        return cls(out / o.file, name)
    if "{track}" in o.file:
        return cls(out, o.file)
    return cls(out / o.file)


def build_sinks(out_dir: str | Path, outputs: Sequence[str]) -> list[Any]:
    """The sinks for the requested outputs (none for an empty list), all inside `out_dir`. The table outputs share
    one sink (`sinks.table.Tables`, where the first of them was asked for): a frame's rows are built once for all."""
    sinks: list[Any] = []
    tables: list[Any] = []
    at = 0  # where the first table output was asked for
    for name in parse_outputs(outputs) if outputs else ():
        if OUTPUTS[name].sink == "TableSink":
            at = at if tables else len(sinks)
            tables.append(make_sink(name, out_dir))
        else:
            sinks.append(make_sink(name, out_dir))
    if tables:
        from emotrace.sinks import Tables

        sinks.insert(at, Tables(tables))
    names = parse_outputs(outputs) if outputs else ()
    for s in sinks:
        if hasattr(s, "links"):  # the report links the run's other files
            s.links = {n: OUTPUTS[n].file for n in names if n != "report"}
    return sinks


def output_file(name: str, track: int | None = None) -> str:
    """The file name output `name` writes (per-track outputs need `track`)."""
    pattern = OUTPUTS[name].file
    return pattern.format(track=int(track)) if "{track}" in pattern else pattern


def track_of(name: str, file: str) -> int | None:
    """The track id in a per-track output's file name, or None when `file` is not one of its files."""
    pattern = OUTPUTS[name].file
    if "{track}" not in pattern:
        return None
    m = re.fullmatch(re.escape(pattern).replace(re.escape("{track}"), r"(\d+)"), file)
    return int(m.group(1)) if m else None


def summary_tracks(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-track brief (`SUMMARY_TRACK_KEYS`) of each track of a summary (summary.json's content)."""
    return [{k: t.get(k) for k in SUMMARY_TRACK_KEYS} for t in summary.get("tracks", [])]


def summary_persons(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-person brief (`SUMMARY_PERSON_KEYS`) of each person of a summary; empty when linking was off (the
    tracks are then the result)."""
    return [{k: p.get(k) for k in SUMMARY_PERSON_KEYS} for p in summary.get("persons", [])]
