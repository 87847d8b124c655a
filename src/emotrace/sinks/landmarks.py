"""`landmarks.parquet`: the 478 face-mesh landmarks of every face whose signals were measured, one row per (frame,
face), for those who want geometry (the table outputs carry the blendshapes and head pose). Columns: `file`,
`frame`, `timestamp`, `track_id`, then `lm<i>_x`, `lm<i>_y` (frame pixels) and `lm<i>_z` (relative depth, same
scale) for i in 0..477, float32. Written in row groups as frames arrive, published whole or not at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emotrace.errors import EmotraceError
from emotrace.faces.signal_names import N_LANDMARKS
from emotrace.results import FrameResult
from emotrace.sinks.base import RunMeta, Sink, atomic_path, discard, publish

GROUP_ROWS = 2048  # rows per Parquet row group: about 12 MB of landmarks held at most
KEYS = ("file", "frame", "timestamp", "track_id")


def landmark_columns() -> list[str]:
    return [f"lm{i}_{axis}" for i in range(N_LANDMARKS) for axis in "xyz"]


class LandmarksSink(Sink):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.tmp = atomic_path(self.path)
        self._keys: list[tuple[str, int, float, int]] = []
        self._points: list[np.ndarray] = []

    def open(self, meta: RunMeta) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not meta.analyzer.get("signals"):
            raise EmotraceError("the landmarks output needs face signals: add --signals N (1 reads every frame)")
        super().open(meta)
        self.schema = pa.schema([pa.field("file", pa.string()), pa.field("frame", pa.int64()),
                                 pa.field("timestamp", pa.float64()), pa.field("track_id", pa.int64())]
                                + [pa.field(c, pa.float32()) for c in landmark_columns()])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._pq = pq.ParquetWriter(self.tmp, self.schema)

    def write(self, result: FrameResult) -> None:
        sig, f = result.faces.signals, result.faces
        if sig is None or f.track_id is None:
            return
        for i in np.flatnonzero(sig.status == "measured"):
            self._keys.append((result.frame.source, result.frame.index, float(result.frame.timestamp),
                               int(f.track_id[i])))
            self._points.append(sig.landmarks[i].reshape(-1))
        if len(self._keys) >= GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if not self._keys:
            return
        keys = list(zip(*self._keys, strict=True))
        points = np.stack(self._points).astype(np.float32)
        cols = [pa.array(keys[k], type=self.schema.field(name).type) for k, name in enumerate(KEYS)]
        cols += [pa.array(points[:, j]) for j in range(points.shape[1])]
        self._pq.write_table(pa.Table.from_arrays(cols, schema=self.schema))
        self._keys, self._points = [], []

    def close(self) -> list[Path]:
        self._flush()
        self._pq.close()
        return [publish(self.tmp, self.path)]

    def abort(self) -> None:
        try:
            self._pq.close()
        except Exception:  # noqa: BLE001 - the run is failing already; the part file goes either way
            pass
        discard(self.tmp)
