"""The Python API: `analyze(source, out_dir)` runs the whole pipeline and returns a pandas DataFrame."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emotrace.analyzer_config import AnalyzerConfig
from emotrace.concurrency import Prefetcher, Worker
from emotrace.errors import EmotraceError, raise_if_stopped
from emotrace.outputs import ALL_OUTPUTS, IN_ALL, build_sinks, parse_outputs
from emotrace.pipeline import Analyzer
from emotrace.provenance import provenance
from emotrace.results import FrameResult
from emotrace.sinks import RunMeta, Sink, pandas_dtypes, result_rows, row_columns
from emotrace.sinks.base import discard
from emotrace.sinks.lock import lock_folders
from emotrace.sources import Source, open_source

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("emotrace")

__all__ = ["ALL_OUTPUTS", "analyze", "build_sinks", "run"]


def run(source: Any, analyzer: Analyzer, sinks: Sequence[Sink] = (), progress: bool = False,
        on_result: Callable[[FrameResult], None] | None = None, max_frames: int | None = None,
        sequence: bool = False, threaded: bool = True) -> list[Path]:
    """Stream `source` through `analyzer` into `sinks`. On any failure every sink aborts: no partial files.

    Photos (an image, or a folder of images) are analysed one by one, independent of each other; `sequence=True`
    treats a folder of images as one video's frames (tracking and temporal state across them). `threaded` decodes
    ahead in one thread and writes the sinks in another (bounded queues, same results in the same order); False
    runs everything in the caller's thread.
    """
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise EmotraceError(f"max_frames must be a whole number 1 or more (got {max_frames!r})")
    if sequence and isinstance(source, (str, Path)) and Path(source).is_dir():
        from emotrace.sources import FolderSource

        source = FolderSource(source, sequence=True)
    locks = lock_folders(f for f in (s.output_folder() for s in sinks) if f is not None)  # one run per output folder
    src: Source | None = None
    reader: Prefetcher[Any] | None = None
    results: Iterator[list[FrameResult]] | None = None
    writer: Worker[FrameResult] | None = None
    opened: list[Sink] = []
    written: list[Path] = []
    bar = None
    try:
        src = open_source(source)
        desc = analyzer.start(src)
        meta = RunMeta(source=src.name, classes=analyzer.classes, fps=src.fps, analyzer=desc,
                       provenance=provenance(dataclasses.asdict(analyzer.config)))
        log.info("source %s (%s frames), detector %s, frame model %s on %s, temporal stage: %s", src.name,
                 src.frame_count or "?", desc["detector"], desc["frame_model"]["name"],
                 desc["frame_model"]["runtime"], desc["temporal_description"] or desc["temporal_stage"])
        for s in sinks:
            opened.append(s)  # before open: a signal inside open() must still abort what it began
            s.open(meta)
        if progress and src.frame_count != 1:  # one photo needs no bar (nor tqdm's import: 25 ms of a first result)
            from tqdm import tqdm

            bar = tqdm(total=src.frame_count, unit="frame", desc=Path(src.name).name[:30], leave=False)
        frames = iter(src)
        if max_frames:
            import itertools

            frames = itertools.islice(frames, max_frames)
        if threaded:
            frames = reader = Prefetcher(frames, depth=READ_AHEAD)
            if opened:
                writer = Worker(lambda res: _write_all(opened, res), depth=WRITE_BEHIND)
        n = 0
        results = analyzer.result_groups(frames, threaded=threaded)  # the results each group of frames completes
        for group in results:
            for res in group:
                raise_if_stopped()  # a stop whose raise Python dropped (errors.request_stop) ends the run here
                n += 1
                if writer is not None:
                    writer.submit(res)
                else:
                    _write_all(opened, res)
                if on_result is not None:
                    on_result(res)
                if bar is not None:
                    bar.update(1)
        if writer is not None:
            writer.finish()
        if n == 0:
            raise EmotraceError(f"no frame could be read from {src.name}")
        meta.incomplete = src.incomplete  # a truncated file: results cover what decoded, and say so
        raise_if_stopped()  # nothing is published after a stop
        for s in opened:
            written += s.close()
        return written
    except BaseException:
        if writer is not None:
            writer.close(cancel=True)  # joined before any sink is aborted: no write runs during the abort
        for s in opened:
            try:
                s.abort()
            except BaseException:  # keep cleaning up (a second Ctrl-C, a sink that failed half-open)
                log.debug("abort of %s failed", type(s).__name__, exc_info=True)
        discard(*written)  # stopped while publishing: the outputs already renamed go too (all or nothing)
        raise
    finally:
        if bar is not None:
            bar.close()
        if results is not None:
            getattr(results, "close", lambda: None)()  # first: its helper thread reads from `reader`
        if reader is not None:
            reader.close()  # joined before the source is released: no read runs on a closed decoder
        if src is not None:
            src.close()
        for lk in locks:
            lk.release()


READ_AHEAD = 8  # decoded frames waiting for the analyzer (640x360: 0.7 MB each)
WRITE_BEHIND = 16  # results waiting for the sinks; the analyzer yields `batch_frames` (8) at a time


def _write_all(sinks: Sequence[Sink], res: FrameResult) -> None:
    for s in sinks:
        s.write(res)


def analyze(source: Any, out_dir: str | Path | None = None, outputs: Sequence[str] = IN_ALL,
            config: AnalyzerConfig | None = None, progress: bool = False, analyzer: Analyzer | None = None,
            sequence: bool = False, **options: Any) -> pd.DataFrame:
    """Analyse an image, folder, video, URL, webcam index or numpy frames; one row per (frame, face).

    With `out_dir`, the requested `outputs` are written there too. Options are AnalyzerConfig fields. The photos
    of a folder are independent unless `sequence=True` (then they are one video's frames, in name order).
    """
    import pandas as pd  # here: `emotrace analyze` and the sinks never need pandas

    an = analyzer or Analyzer(config, **options)
    rows: list[dict[str, Any]] = []
    with_va = False
    with_signals = an.config.signals > 0
    with_people = an.people is not None

    def collect(res: FrameResult) -> None:
        nonlocal with_va
        with_va = with_va or res.faces.valence_arousal is not None
        rows.extend(result_rows(res, an.classes, with_va, with_signals, with_people))

    sinks = build_sinks(out_dir, parse_outputs(outputs)) if out_dir is not None else []
    run(source, an, sinks, progress=progress, on_result=collect, sequence=sequence)
    df = pd.DataFrame(rows, columns=row_columns(an.classes, with_va, with_signals, with_people))
    return df.astype(pandas_dtypes(an.classes, with_va, with_signals, with_people))
