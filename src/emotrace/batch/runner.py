"""`emotrace batch`: plan which items need work, run them on an engine with one progress bar, then rebuild the
collection tables and report from the per-item records."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotrace.analyzer_config import AnalyzerConfig
from emotrace.batch.collection import collection_rows, write_collection
from emotrace.batch.duplicates import find_duplicates, record_duplicate
from emotrace.batch.engines import LocalEngine, RayEngine, check_ray_address
from emotrace.batch.inputs import collect_items
from emotrace.batch.options import ENGINES, BatchOptions
from emotrace.batch.persons import link_collection, write_people
from emotrace.batch.process import Task
from emotrace.batch.progress import Progress
from emotrace.batch.report import write_report
from emotrace.batch.retable import missing_outputs, table_only, write_tables
from emotrace.batch.store import BatchStore, settings_key, stat_key
from emotrace.errors import EmotraceError
from emotrace.outputs import parse_outputs
from emotrace.provenance import provenance

log = logging.getLogger("emotrace")

EXIT_SOME_FAILED = 3  # documented: 0 all items done, 3 some items failed, 2 a usage error, 130 interrupted


@dataclass
class BatchResult:
    out: Path
    items: int = 0
    done: int = 0  # analysed in this run
    skipped: int = 0  # already done with the same content and settings
    failed: int = 0  # failed in this run, or earlier and not retried
    pending: int = 0
    retabled: int = 0  # done before; only new table outputs, written from their stored rows
    duplicates: int = 0  # items whose bytes are another item's: recorded as its copies, not analysed
    incomplete_items: list[dict[str, Any]] = field(default_factory=list)  # done in this run, from a truncated file
    frames: int = 0  # analysed in this run
    seconds: float = 0.0
    failed_items: list[dict[str, Any]] = field(default_factory=list)
    engine: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 0 if self.failed == 0 and self.pending == 0 else EXIT_SOME_FAILED

    def line(self) -> str:
        fps = self.frames / self.seconds if self.seconds > 0 else 0.0
        return (f"{self.items} items: {self.done} done, {self.failed} failed, {self.skipped} skipped (already done)"
                + (f", {self.pending} pending" if self.pending else "")
                + (f", {self.retabled} given new table outputs from their stored rows (not analysed again)"
                   if self.retabled else "")
                + (f", {self.duplicates} duplicate(s) (same bytes as another item: analysed once)"
                   if self.duplicates else "")
                + (f", {len(self.incomplete_items)} incomplete (truncated: the frames read are kept)"
                   if self.incomplete_items else "")
                + f"; {self.frames} frames in {self.seconds:.1f} s ({fps:.1f} frames/s); collection in {self.out}/")


def make_engine(opts: BatchOptions, config: AnalyzerConfig) -> Any:
    if opts.workers is not None and opts.workers < 1:
        raise EmotraceError("--workers must be 1 or more")
    if opts.engine == "local":
        return LocalEngine(config, opts.workers)
    if opts.engine == "ray":
        engine = RayEngine(config, opts.workers, opts.address, opts.cpus_per_worker, opts.gpus_per_worker)
        engine._import_ray()  # a clear message before any work when Ray is missing
        check_ray_address(opts.address)  # and when nothing answers at the address (Ray would retry for minutes)
        return engine
    raise EmotraceError(f"unknown engine {opts.engine!r} (choose {' or '.join(ENGINES)})")


def run_batch(opts: BatchOptions, config: AnalyzerConfig) -> BatchResult:
    """Analyse every item of `opts.inputs` into `opts.out`; rerunnable: done items are skipped."""
    outputs = parse_outputs(opts.outputs)
    cfg = config.to_dict()  # the settings hash and batch.json; the engine gets the config itself
    engine = make_engine(opts, config)
    items, meta_fields = collect_items(list(opts.inputs), opts.sequence, exclude=Path(opts.out).resolve())
    _check_people_options(opts, items)
    store = BatchStore(opts.out)
    store.prepare()
    store.lock()
    result = BatchResult(out=store.root, items=len(items), engine=engine.describe())
    # The resume key covers what changes an item's results, not which files show them: adding a table format is
    # written from the stored rows (retable.py); an output that needs the video analyses the item again.
    settings = {"analyzer": cfg, "sequence": opts.sequence}
    sha = settings_key(settings)
    try:
        store.clean_leftovers()
        if opts.prune:
            keep = {it.id for it in items}
            for d in store.items.iterdir():
                if d.is_dir() and d.name not in keep:
                    shutil.rmtree(d, ignore_errors=True)
                    store.rows_path(d.name).unlink(missing_ok=True)
        tasks: list[Task] = []
        dedup = find_duplicates(items, store, sha)
        for it in items:
            if it.id in dedup.original_of:
                result.duplicates += 1
                record_duplicate(store, it, dedup.original_of[it.id], dedup.fingerprints[it.id], sha)
                continue
            prev = store.read_record(it.id)
            same = (prev is not None and prev.get("settings_sha") == sha and prev.get("meta") == it.meta
                    and prev.get("stat_key") is not None and prev.get("stat_key") == stat_key(Path(it.path)))
            missing = missing_outputs(prev, outputs) if prev else []
            if same and prev["status"] == "done" and store.is_done(prev) and not missing:
                result.skipped += 1
                continue
            if same and prev["status"] == "done" and store.is_done(prev) and table_only(missing):
                write_tables(store, prev, missing)
                result.retabled += 1
                continue
            if same and prev["status"] == "failed" and not opts.retry_failed:
                result.failed += 1
                result.failed_items.append(prev)
                continue
            tasks.append(Task(id=it.id, path=str(Path(it.path).resolve()) if Path(it.path).exists() else it.path,
                              meta=it.meta, out=str(store.root), outputs=outputs, sequence=opts.sequence,
                              settings_sha=sha, meta_fields=meta_fields, previous=prev,
                              fingerprint=dedup.fingerprints.get(it.id)))
        log.info("%d items: %d to analyse, %d already done, %d failed before (--retry-failed runs them again), "
                 "%d duplicates", len(items), len(tasks), result.skipped, result.failed, result.duplicates)
        _execute(engine, tasks, result, opts.progress)
    finally:
        try:
            _rebuild(store, result, opts, settings, sha, engine)
        finally:
            store.unlock()
    return result


def _check_people_options(opts: BatchOptions, items: list[Any]) -> None:
    """Bad person options are a one-line error before any work."""
    if opts.link_distance is not None and not 0 <= opts.link_distance < 2:
        raise EmotraceError(f"--link-distance must be between 0 and 2 (got {opts.link_distance:g})")
    col = opts.identity_column
    if col is not None and items and not any(col in it.meta for it in items):
        have = sorted({k for it in items for k in it.meta})
        raise EmotraceError(f"--identity-column {col!r} is not a manifest column"
                            + (f" (have: {', '.join(have)})" if have else " (the inputs have no manifest)"))


def _execute(engine: Any, tasks: list[Task], result: BatchResult, progress: bool) -> None:
    t0 = time.monotonic()
    bar = Progress(len(tasks), enabled=progress)
    try:
        with bar.logging_above():
            for rec in engine.run(tasks):
                for warning in rec.pop("warnings", None) or []:  # the worker's, printed here above the bar
                    bar.write(f"warning: {rec['path']}: {warning}")
                if rec["status"] == "done":
                    result.done += 1
                    result.frames += rec.get("frames") or 0
                    if rec.get("complete") is False:
                        result.incomplete_items.append(rec)
                elif rec["status"] == "skipped":
                    result.skipped += 1
                else:
                    result.failed += 1
                    result.failed_items.append(rec)
                    log.debug("failed: %s: %s", rec["path"], rec["reason"])
                bar.update(done=result.done, failed=result.failed)
    finally:
        bar.close()
        result.seconds = time.monotonic() - t0


def _rebuild(store: BatchStore, result: BatchResult, opts: BatchOptions, settings: dict[str, Any],
             sha: str, engine: Any) -> None:
    store.clean_leftovers()  # the workers are gone: scratch left by one that died is garbage now
    recs = store.records()
    rows, classes = collection_rows(store, recs)
    result.pending = sum(1 for r in rows if r["status"] == "pending")
    distance = settings["analyzer"].get("person_distance", 0.0) if opts.link_distance is None else opts.link_distance
    people = link_collection(recs, {r["item_id"] for r in rows if r["status"] == "done"}, classes, distance,
                             opts.identity_column)
    for row in rows:  # each item's persons by collection id (the per-item person_id order), or why not linked
        row["collection_person_ids"] = people.of_item.get(row["item_id"])
        row["persons_note"] = people.note.get(row["item_id"])
    write_people(store, people)
    meta = {"provenance": provenance({"options": dataclasses.asdict(opts), "analyzer": settings["analyzer"]}),
            "engine": engine.describe(), "settings_sha": sha, "outputs": list(parse_outputs(opts.outputs)),
            "sequence": opts.sequence, "classes": classes,
            "people": {"link_distance": distance, "identity_column": opts.identity_column,
                       "persons": len(people.persons)},
            "this_run": {"done": result.done, "failed": result.failed, "skipped": result.skipped,
                         "frames": result.frames, "seconds": round(result.seconds, 3)}}
    write_collection(store, rows, meta)
    write_report(store.root, rows, classes, meta, people.persons)
    path = store.root / "batch.json"
    tmp = path.with_name(".batch.json.part")
    tmp.write_text(json.dumps(meta, indent=1, default=str))
    os.replace(tmp, path)
