"""The face-crop cache: run emotrace's own detector and alignment over a dataset once, keep aligned crops.

Every sample becomes one compressed `.npz` (crops (T, S, S[, 3]) uint8, the face box and keypoints per frame in
source pixels, and `found` per frame) named by a content hash of the media and the crop settings, so a renamed
dataset is not recomputed and changed settings never reuse stale crops. Each file is written to a temporary name
and renamed, then its line is appended to `manifest.jsonl`: a crash half-way loses nothing already written, and a
rerun skips every sample whose file exists. Samples run in parallel worker processes.

Already-cropped datasets (FER, CK+48, Aff-Wild2 cropped-aligned) are resized, not re-detected, unless `align` is
`always`. In video, a frame where the detector finds no face reuses the previous frame's face (`found` False).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from emotrace.data.npz import save_npz
from emotrace.data.schema import Dataset, Media, Sample
from emotrace.errors import EmotraceError
from emotrace.native_log import MEDIAPIPE_QUIET_ENV, quiet_native_env


@dataclass(frozen=True)
class CropSettings:
    """What a crop depends on; part of every cache key."""

    size: int = 64
    gray: bool = False
    detector: str = "auto"
    min_score: float = 0.5
    align: str = "auto"  # auto: detect unless the dataset is pre-cropped; always; never

    def key_text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class CacheReport:
    done: int = 0
    reused: int = 0
    failed: int = 0
    no_face: int = 0
    errors: list[tuple[str, str]] | None = None


_WORKER: dict[str, Any] = {}


def _init_worker(settings: CropSettings, detect: bool) -> None:
    quiet_native_env(only=MEDIAPIPE_QUIET_ENV)
    cv2.setNumThreads(1)
    from emotrace.faces.align import FaceAligner

    _WORKER["aligner"] = FaceAligner(size=settings.size, gray=settings.gray)
    _WORKER["settings"] = settings
    if detect:
        from emotrace.faces.detectors import create_detector

        _WORKER["detector"] = create_detector(settings.detector, min_score=settings.min_score)


def _pick_face(dets: Any) -> int:
    """The biggest confident face: dataset clips show one subject, bystanders are smaller."""
    areas = (dets.boxes[:, 2] - dets.boxes[:, 0]) * (dets.boxes[:, 3] - dets.boxes[:, 1])
    return int(np.argmax(areas * dets.scores))


def _crop_media(media: Media, detect: bool) -> dict[str, np.ndarray]:
    settings: CropSettings = _WORKER["settings"]
    frames = media.load()
    n = len(frames)
    size = settings.size
    if not detect:
        crops = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames])
        if settings.gray:
            crops = np.stack([cv2.cvtColor(c, cv2.COLOR_BGR2GRAY) for c in crops])
        h, w = frames.shape[1:3]
        boxes = np.tile(np.array([0, 0, w, h], np.float32), (n, 1))
        return {"crops": crops, "boxes": boxes, "keypoints": np.zeros((n, 0, 2), np.float32),
                "found": np.ones(n, bool)}
    detector = _WORKER["detector"]
    aligner = _WORKER["aligner"]
    boxes = np.zeros((n, 4), np.float32)
    kps: np.ndarray | None = None
    found = np.zeros(n, bool)
    for i, frame in enumerate(frames):
        dets = detector.detect(frame)
        if len(dets):
            j = _pick_face(dets)
            boxes[i] = dets.boxes[j]
            if dets.keypoints is not None:
                if kps is None:
                    kps = np.zeros((n,) + dets.keypoints.shape[1:], np.float32)
                kps[i] = dets.keypoints[j]
            found[i] = True
    if not found.any():
        return {"found": found}
    # Frames without a face take the nearest earlier found face (or the first found one at the start).
    last = int(np.argmax(found))
    for i in range(n):
        if found[i]:
            last = i
        else:
            boxes[i] = boxes[last]
            if kps is not None:
                kps[i] = kps[last]
    shape = (n, size, size) if settings.gray else (n, size, size, 3)
    crops = np.zeros(shape, np.uint8)
    for i, frame in enumerate(frames):
        crops[i] = aligner.crop(frame, boxes[i], None if kps is None else kps[i])
    return {"crops": crops, "boxes": boxes, "keypoints": kps if kps is not None else np.zeros((n, 0, 2), np.float32),
            "found": found}


def _work(job: tuple[int, Media, str, str, bool]) -> tuple[int, str, int, int, str | None]:
    index, media, key, path, detect = job
    try:
        arrays = _crop_media(media, detect)
    except Exception as exc:  # any decoding failure is reported per sample, never kills the run
        return index, key, 0, 0, f"{type(exc).__name__}: {exc}".splitlines()[0]
    found = arrays["found"]
    if not found.any():
        return index, key, len(found), 0, "no face detected"
    save_npz(path, compressed=True, **arrays)
    return index, key, len(found), int(found.sum()), None


class CropCache:
    """A folder of aligned crops for one or more datasets, keyed by content; see the module docstring."""

    def __init__(self, root: str | Path, settings: CropSettings | None = None) -> None:
        self.root = Path(root)
        self.settings = settings or CropSettings()
        self.manifest_path = self.root / "manifest.jsonl"

    def key(self, media: Media) -> str:
        return hashlib.sha256((media.fingerprint() + self.settings.key_text()).encode()).hexdigest()[:24]

    def path(self, key: str) -> Path:
        return self.root / "crops" / key[:2] / f"{key}.npz"

    def entries(self) -> dict[str, dict[str, Any]]:
        """Manifest lines by sample id (later lines win); a torn last line from a crash is ignored."""
        out: dict[str, dict[str, Any]] = {}
        if self.manifest_path.is_file():
            for line in self.manifest_path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                out[f"{rec['dataset']}:{rec['id']}"] = rec
        return out

    def prepare(self, dataset: Dataset, workers: int = 2, progress: bool = False) -> CacheReport:
        """Crop every sample of `dataset` not yet in the cache; returns counts of what happened."""
        if self.settings.align not in ("auto", "always", "never"):
            raise EmotraceError(f"align must be auto, always or never, not {self.settings.align!r}")
        detect = self.settings.align == "always" or (self.settings.align == "auto" and not dataset.precropped)
        self.root.mkdir(parents=True, exist_ok=True)
        report = CacheReport(errors=[])
        jobs = []
        known = self.entries()
        by_key: dict[str, list[int]] = {}
        for i, s in enumerate(dataset.samples):
            key = self.key(s.media)
            if self.path(key).is_file():
                report.reused += 1
                if f"{dataset.name}:{s.id}" not in known:
                    self._append(dataset, s, key, None, None)
                continue
            if key not in by_key:  # identical content is cropped once and shared
                jobs.append((i, s.media, key, str(self.path(key)), detect))
            by_key.setdefault(key, []).append(i)
        if not jobs:
            return report
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(jobs), desc=f"cropping {dataset.name}", unit="sample")
        ctx = mp.get_context("spawn")
        with ctx.Pool(max(1, workers), initializer=_init_worker, initargs=(self.settings, detect)) as pool:
            for _, key, frames, found, error in pool.imap_unordered(_work, jobs, chunksize=8):
                for index in by_key[key]:
                    s = dataset.samples[index]
                    if error is None:
                        report.done += 1
                        self._append(dataset, s, key, frames, found)
                    elif error == "no face detected":
                        report.no_face += 1
                        report.errors.append((s.id, error))
                    else:
                        report.failed += 1
                        report.errors.append((s.id, error))
                if bar is not None:
                    bar.update()
        if bar is not None:
            bar.close()
        return report

    def _append(self, dataset: Dataset, s: Sample, key: str, frames: int | None, found: int | None) -> None:
        rec = {"dataset": dataset.name, "id": s.id, "key": key, "label": s.label, "subject": s.subject,
               "split": s.split, "frames": frames, "found": found}
        with open(self.manifest_path, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def load(self, media: Media) -> dict[str, np.ndarray]:
        """The cached arrays of one sample's media; an error when it was never prepared."""
        path = self.path(self.key(media))
        if not path.is_file():
            raise EmotraceError(f"no cached crops for {media.describe()}; run `emotrace data prepare` first")
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
