"""Golden results for the byte-identity check of the table outputs, the summary, report.html and the drawing.

`record()` analyses a few short pieces of the shared media and stores every FrameResult field the outputs read
(`results.json`, exact: float32 values round-trip through JSON as float64); `digests()` replays those results
through the sinks with fixed provenance and hashes what they write. The hashes in `digests.json` were computed at
commit 082d58b (before the per-face record was merged); `tests/sinks/test_golden.py` checks today's code gives the
same bytes. Regenerate (only when an output is meant to change):
`PYTHONPATH=src python -m tests.sinks.golden --record --digests`; only the drawing's hashes (a deliberate change
of the annotation, the tables untouched): `PYTHONPATH=src python -m tests.sinks.golden --drawing`. The drawing
hashes were retaken at issue 24 (a dark backing behind the probability-bar labels), and the report's too (issue 24's
batch defect 6: links to the run's files, a zoom hint, a clock axis ending at the track's end; tables unchanged),
and the report's again at issue 25 B (`--digests` only: per-person sections, so a style rule for the tracks' h3
headings inside a person; the golden results carry no person, so tables and summary kept their hashes).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from emotrace.results import FrameResult
from emotrace.types import Detections, Frame

DATA = Path(__file__).with_name("data")
RESULTS = DATA / "results.json"
DIGESTS = DATA / "digests.json"
# (media file, frames): a multi-face clip, one that starts without a face, two photos.
CLIPS = (("short_hamilton_clip.mp4", 40), ("noface_face.mov", 30), ("multi_face.jpg", 1), ("single_face.jpg", 1))
PROVENANCE = {"command": "emotrace analyze CLIP", "commit": "golden", "created_utc": "2026-01-01T00:00:00+00:00"}
_FIELDS = ("boxes", "scores", "track_id", "frame_probs", "temporal_probs", "valence_arousal", "crop")


def _array(a: np.ndarray | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"dtype": str(a.dtype), "shape": list(a.shape), "data": a.ravel().tolist()}


def _unarray(d: dict[str, Any] | None) -> np.ndarray | None:
    return None if d is None else np.asarray(d["data"], dtype=d["dtype"]).reshape(d["shape"])


class _Recorder:
    """A sink that keeps the run's meta and the fields of every result."""

    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []

    def open(self, meta: Any) -> None:
        self.meta = {"source": meta.source, "classes": meta.classes, "fps": meta.fps, "analyzer": meta.analyzer}

    def write(self, res: FrameResult) -> None:
        f = res.faces
        self.results.append({"index": res.frame.index, "timestamp": res.frame.timestamp, "source": res.frame.source,
                             "detected": res.detected, **{k: _array(getattr(f, k)) for k in _FIELDS}})

    def close(self) -> list[Path]:
        return []

    def abort(self) -> None:
        pass

    def output_folder(self) -> None:
        return None


def record(media: Path) -> None:
    """Analyse CLIPS with the default analyzer and store the results (needs ../shared and the models)."""
    from emotrace.api import run
    from emotrace.pipeline import Analyzer

    an = Analyzer()
    runs = []
    for name, frames in CLIPS:
        rec = _Recorder()
        run(str(media / name), an, [rec], max_frames=frames)
        runs.append({"clip": name, "meta": rec.meta, "results": rec.results})
    DATA.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(runs, separators=(",", ":")))


def load() -> list[dict[str, Any]]:
    """The stored runs: meta (a RunMeta's fields) and FrameResults (images are 1x1: no output here reads them)."""
    runs = json.loads(RESULTS.read_text())
    for r in runs:
        r["results"] = [FrameResult(Frame(d["index"], d["timestamp"], np.zeros((1, 1, 3), np.uint8), d["source"]),
                                    Detections(**{k: _unarray(d[k]) for k in _FIELDS}), detected=d["detected"])
                        for d in r["results"]]
    return runs


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parquet_digest(path: Path) -> str:
    """Schema, metadata, row groups and values (not the file bytes: those carry the pyarrow version)."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    table = pf.read()
    facts = {"schema": str(table.schema), "metadata": {k.decode(): v.decode() for k, v in
                                                      (table.schema.metadata or {}).items()},
             "groups": [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)],
             "rows": table.to_pylist()}
    return _sha(json.dumps(facts, sort_keys=True, default=repr).encode())


def digests() -> dict[str, dict[str, str]]:
    """Per clip: output name -> hash of what today's sinks write for the stored results."""
    from emotrace.outputs import build_sinks
    from emotrace.sinks import RunMeta

    out: dict[str, dict[str, str]] = {}
    for r in load():
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            names = ["csv", "jsonl", "parquet", "summary", "report"]
            sinks = build_sinks(folder, names)
            meta = RunMeta(provenance=PROVENANCE, **r["meta"])
            for s in sinks:
                s.open(meta)
            for res in r["results"]:
                for s in sinks:
                    s.write(res)
            for s in sinks:
                s.close()
            files = {"csv": "emotions.csv", "jsonl": "emotions.jsonl", "summary": "summary.json",
                     "report": "report.html"}
            d = {n: _sha((folder / f).read_bytes()) for n, f in files.items()}
            d["parquet"] = _parquet_digest(folder / "emotions.parquet")
            out[r["clip"]] = d
    return out


def drawing_digests(media: Path) -> dict[str, str]:
    """Hash of the annotated photo (with and without bars) for the stored results of each photo."""
    import cv2

    from emotrace.sinks.draw import draw_result

    out = {}
    for r in load():
        if not r["clip"].endswith(".jpg"):
            continue
        image = cv2.imread(str(media / r["clip"]))
        res = r["results"][0]
        for bars in (True, False):
            out[f"{r['clip']}:bars={bars}"] = _sha(draw_result(image, res, r["meta"]["classes"], bars=bars).tobytes())
    return out


if __name__ == "__main__":
    from tests.helpers import MEDIA

    if "--record" in sys.argv:
        record(MEDIA)
    if "--digests" in sys.argv:
        DIGESTS.write_text(json.dumps({"tables": digests(), "drawing": drawing_digests(MEDIA)}, indent=1) + "\n")
    elif "--drawing" in sys.argv:  # the tables' hashes stay as they are
        kept = json.loads(DIGESTS.read_text())
        DIGESTS.write_text(json.dumps({**kept, "drawing": drawing_digests(MEDIA)}, indent=1) + "\n")
    print(DIGESTS.read_text())
