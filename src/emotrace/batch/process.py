"""One item, start to finish, inside a worker: fingerprint, analyse through the same runner as `analyze`
(`emotrace.api.run` into the registry's sinks), and publish the outputs, the record and the collection rows.

Whatever goes wrong with the item (unreadable, no frames, a decoder error) becomes a failed record with a one-line
reason; the worker goes on with the next item. A truncated video follows `analyze`'s rule (`sources/video.truncated`):
the frames that decoded are kept, and the record says `complete: false` with the reason.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from emotrace import errors
from emotrace.batch.progress import collect_warnings
from emotrace.batch.store import BatchStore, content_fingerprint, item_key
from emotrace.errors import SourceError

log = logging.getLogger("emotrace")


@dataclass
class Task:
    """What a worker needs for one item (plain data: it crosses process and node boundaries)."""

    id: str
    path: str
    meta: dict[str, Any]
    out: str  # the batch folder, absolute
    outputs: tuple[str, ...]
    sequence: bool
    settings_sha: str
    meta_fields: list[Any] = field(default_factory=list)  # pyarrow fields of the metadata columns
    previous: dict[str, Any] | None = None  # the item's last record, if any
    fingerprint: dict[str, Any] | None = None  # stat key and content hash, when the driver hashed it already


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def rss_mb() -> float | None:
    """This worker's resident memory now (Linux), to show that it stays flat over thousands of items."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def one_line(exc: BaseException) -> str:
    """A user-facing one-line reason, at most 500 characters (it is a table cell)."""
    return " ".join(errors.one_line(exc).split())[:500]


def reason_for(exc: BaseException, path: str) -> str:
    """The one-line reason without the item's path: the record, the `reason` column and the log line already name
    the item, so `file is empty: /x/a.jpg` is stored as `file is empty` (issue 24)."""
    return without_path(one_line(exc), path) or one_line(exc)


def without_path(text: str, path: str) -> str:
    """`text` with the item's path taken out (a reason or warning stored beside the path)."""
    for p in dict.fromkeys((path, str(Path(path).resolve()), str(Path(path).expanduser()))):
        text = text.replace(f"{p}: ", "").replace(f": {p}", "").replace(f" {p}", "").replace(p, "")
    return " ".join(text.split()).strip(" :")


def _open(path: Path, sequence: bool) -> Any:
    from emotrace.sources import FolderSource, open_source

    if path.is_dir():
        return FolderSource(path, sequence=sequence)
    return open_source(str(path))


def process_item(analyzer: Any, task: Task, first_on_worker: bool = False) -> dict[str, Any]:
    """Analyse one item into the batch folder; returns its record (status done, failed or skipped).
    `first_on_worker`: the worker's first item, whose time includes its warm-up (kept out of the slowest items)."""
    from emotrace.api import run
    from emotrace.outputs import build_sinks, output_file, summary_persons, summary_tracks
    from emotrace.sinks import SummarySink, TableSink

    store = BatchStore(task.out)
    t0 = time.monotonic()
    path = Path(task.path)
    rec: dict[str, Any] = {"id": task.id, "path": task.path, "meta": task.meta, "status": "failed", "reason": None,
                           "settings_sha": task.settings_sha, "started_utc": now_utc(),
                           "worker": f"{socket.gethostname()}:{os.getpid()}"}
    tmp_dir = tmp_rows = None
    try:
        if not path.exists():
            raise SourceError(f"no such file or folder: {path}")
        fp = task.fingerprint or content_fingerprint(path, task.previous)
        rec.update(fp, key=item_key(fp["content_sha256"], task.settings_sha, task.meta))
        prev = task.previous
        if (prev and prev.get("key") == rec["key"] and prev.get("status") == "done" and store.is_done(prev)
                and set(task.outputs) <= set(prev.get("output_names") or ())):
            # Same bytes under a new modification time: nothing to redo; remember the new file times.
            prev.update(stat_key=fp["stat_key"])
            store.write_record(prev)
            return {**prev, "status": "skipped", "seconds": 0.0}
        tmp_dir, tmp_rows = store.scratch(task.id)
        prefix = {"item_id": task.id, "path": task.path, **task.meta}
        fields = [pa.field("item_id", pa.string()), pa.field("path", pa.string()), *task.meta_fields]
        rows = TableSink(tmp_rows, "parquet", prefix=prefix, prefix_fields=fields)
        stats = SummarySink(tmp_dir / output_file("summary"))  # the record's counts; a file only when asked for
        sinks = [*build_sinks(tmp_dir, [o for o in task.outputs if o != "summary"]), rows,
                 stats if "summary" in task.outputs else _Shadow(stats)]
        src = _open(path, task.sequence)  # last: `run` closes it whatever happens
        frames = 0

        def count(_: Any) -> None:
            nonlocal frames
            frames += 1

        with collect_warnings() as warned:  # printed by the driver, above its progress bar
            run(src, analyzer, sinks, on_result=count, sequence=task.sequence)
        s = stats.build()  # `complete` / `incomplete_reason`: the source's word (a truncated video), as `analyze`'s
        # The source's truncation warning is the record's `incomplete_reason`, said once at the end (`incomplete:`).
        warned = [without_path(w, task.path) or w for w in warned if not s["incomplete_reason"]
                  or s["incomplete_reason"] not in w]
        if warned:
            rec["warnings"] = warned
        counts = np.zeros(len(analyzer.classes), np.int64)  # faces per temporal label, over all tracks
        for tr in stats.tracks.values():
            counts += tr["counts"]
        rec.update(status="done", complete=s["complete"], incomplete_reason=s["incomplete_reason"], frames=frames,
                   faces=int(counts.sum()), frames_with_faces=s["frames_with_faces"], tracks=len(s["tracks"]),
                   duration_s=s["duration_s"], fps=getattr(src, "fps", None),
                   dominant_emotion=analyzer.classes[int(np.argmax(counts))] if counts.sum() else None,
                   label_counts={c: int(counts[k]) for k, c in enumerate(analyzer.classes)},
                   track_results=summary_tracks(s), skipped_files=list(getattr(src, "skipped", [])),
                   outputs=sorted(p.name for p in tmp_dir.iterdir()) + ["item.json"], output_names=list(task.outputs),
                   analyzer=s["analyzer"])
        if getattr(analyzer, "people", None) is not None:  # linking on: the collection links these across items
            rec["persons"] = item_persons(summary_persons(s), stats.tracks, analyzer.classes,
                                          analyzer.people.person_descriptors())
        rec["seconds"] = round(time.monotonic() - t0, 3)
        rec["first_on_worker"] = first_on_worker
        rec["finished_utc"] = now_utc()
        rec["worker_rss_mb"] = rss_mb()
        store.publish(task.id, tmp_dir, rec, tmp_rows)
        return rec
    except Exception as exc:  # the item fails, the batch goes on
        rec.update(status="failed", reason=reason_for(exc, task.path), seconds=round(time.monotonic() - t0, 3),
                   finished_utc=now_utc())
        for k in ("frames", "faces", "tracks", "duration_s"):
            rec.setdefault(k, None)
        if tmp_rows is not None:
            shutil.rmtree(tmp_rows.parent, ignore_errors=True)
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir, unused_rows = store.scratch(task.id)
        shutil.rmtree(unused_rows.parent, ignore_errors=True)
        store.publish(task.id, tmp_dir, rec, None)
        return rec


def item_persons(persons: list[dict[str, Any]], tracks: dict[int, dict[str, Any]], classes: list[str],
                 descriptors: dict[int, tuple[np.ndarray, int]]) -> list[dict[str, Any]]:
    """The item's persons for its record: the summary's brief of each, its label counts (exact, from its tracks'
    counts: the collection sums them), and its mean face descriptor (`descriptor`, rounded; None for a person with
    no usable face) with how many frames' descriptors it averages. The descriptor is what `emotrace batch` links
    across items; it is kept in the record only, never in a table."""
    out = []
    for p in persons:
        mean, n = descriptors.get(p["person_id"], (None, 0))
        counts = sum(tracks[t]["counts"] for t in p["tracks"])
        out.append({**p, "label_counts": {c: int(counts[k]) for k, c in enumerate(classes)},
                    "descriptor": None if mean is None else [round(float(v), 5) for v in mean], "descriptors": n})
    return out


def publish_failure(task: Task, reason: str) -> dict[str, Any]:
    """Record `task` as failed with `reason` (the driver's word, when the worker could not say it)."""
    store = BatchStore(task.out)
    rec = {"id": task.id, "path": task.path, "meta": task.meta, "status": "failed", "reason": reason,
           "settings_sha": task.settings_sha, "frames": None, "faces": None, "tracks": None, "duration_s": None,
           "seconds": None, "finished_utc": now_utc()}
    tmp_dir, _ = store.scratch(task.id)
    store.publish(task.id, tmp_dir, rec, None)
    return rec


class _Shadow:
    """A sink that gathers statistics but never publishes a file (the summary when it is not an output)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def open(self, meta: Any) -> None:
        self.inner.open(meta)

    def write(self, result: Any) -> None:
        self.inner.write(result)

    def close(self) -> list[Path]:
        return []

    def abort(self) -> None:
        pass

    def output_folder(self) -> Path | None:
        return None  # writes nothing, so locks nothing
