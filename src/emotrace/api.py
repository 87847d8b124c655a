"""The Python API: `analyze(source, out_dir)` runs the whole pipeline and returns a pandas DataFrame."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emotrace.errors import EmotraceError
from emotrace.outputs import ALL_OUTPUTS, build_sinks, parse_outputs
from emotrace.pipeline import Analyzer, AnalyzerConfig, FrameResult
from emotrace.provenance import provenance
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
        sequence: bool = False) -> list[Path]:
    """Stream `source` through `analyzer` into `sinks`. On any failure every sink aborts: no partial files.

    Photos (an image, or a folder of images) are analysed one by one, independent of each other; `sequence=True`
    treats a folder of images as one video's frames (tracking and temporal state across them).
    """
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise EmotraceError(f"max_frames must be a whole number 1 or more (got {max_frames!r})")
    if sequence and isinstance(source, (str, Path)) and Path(source).is_dir():
        from emotrace.sources import FolderSource

        source = FolderSource(source, sequence=True)
    locks = lock_folders(f for f in (s.output_folder() for s in sinks) if f is not None)  # one run per output folder
    src: Source | None = None
    opened: list[Sink] = []
    written: list[Path] = []
    bar = None
    try:
        src = open_source(source)
        stills = bool(getattr(src, "is_still", False))
        analyzer.reset()
        desc = analyzer.describe()
        if stills:
            desc.update(temporal_stage="none", temporal_description="independent photos: no temporal stage, the "
                        "temporal columns are the frame model's")
        meta = RunMeta(source=src.name, classes=analyzer.classes, fps=src.fps, analyzer=desc,
                       provenance=provenance(dataclasses.asdict(analyzer.config)))
        log.info("source %s (%s frames), detector %s, frame model %s on %s, temporal stage: %s", src.name,
                 src.frame_count or "?", desc["detector"], desc["frame_model"]["name"],
                 desc["frame_model"]["runtime"], desc["temporal_description"] or desc["temporal_stage"])
        for s in sinks:
            opened.append(s)  # before open: a signal inside open() must still abort what it began
            s.open(meta)
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=src.frame_count, unit="frame", desc=Path(src.name).name[:30], leave=False)
        frames = iter(src)
        if max_frames:
            import itertools

            frames = itertools.islice(frames, max_frames)
        n = 0
        for res in (analyzer.stills(frames) if stills else analyzer.stream(frames)):
            n += 1
            for s in opened:
                s.write(res)
            if on_result is not None:
                on_result(res)
            if bar is not None:
                bar.update(1)
        if n == 0:
            raise EmotraceError(f"no frame could be read from {src.name}")
        meta.incomplete = src.incomplete  # a truncated file: results cover what decoded, and say so
        for s in opened:
            written += s.close()
        return written
    except BaseException:
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
        if src is not None:
            src.close()
        for lk in locks:
            lk.release()


def analyze(source: Any, out_dir: str | Path | None = None, outputs: Sequence[str] = ALL_OUTPUTS,
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

    def collect(res: FrameResult) -> None:
        nonlocal with_va
        with_va = with_va or res.faces.valence_arousal is not None
        rows.extend(result_rows(res, an.classes, with_va))

    sinks = build_sinks(out_dir, parse_outputs(outputs)) if out_dir is not None else []
    run(source, an, sinks, progress=progress, on_result=collect, sequence=sequence)
    df = pd.DataFrame(rows, columns=row_columns(an.classes, with_va))
    return df.astype(pandas_dtypes(an.classes, with_va))
