"""The one sample schema every dataset reader produces, so training and evaluation never care where data came from.

A `Sample` is a still or an ordered frame sequence (`Media`), a label in the dataset's class list (emotrace's
seven emotions, optionally plus contempt), optional valence/arousal (per sample or per frame; `va_proxy` marks
values derived from categorical votes rather than annotated), a subject id (for subject-independent splits) and
the split the dataset assigns. Pixels are loaded lazily through the media object.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from emotrace.errors import EmotraceError
from emotrace.hashing import file_sha256
from emotrace.labels import EMOTIONS

CONTEMPT_CLASSES: tuple[str, ...] = EMOTIONS + ("contempt",)
"""The eight-class set (FER+ and CK+ have contempt); contempt is appended so indices 0..6 keep their meaning."""


class Media:
    """Where a sample's pixels are. `load()` gives (T, H, W, 3) BGR uint8; a still has T = 1."""

    kind = "image"

    def load(self) -> np.ndarray:
        raise NotImplementedError

    def fingerprint(self) -> str:
        """A content hash: the crop cache is keyed by it, so renamed or moved files are not recomputed."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _read_image(path: Path) -> np.ndarray:
    from emotrace.sources.images import read_image

    return read_image(path)


@dataclass(frozen=True)
class ImageFile(Media):
    """One image file on disk."""

    path: Path

    def load(self) -> np.ndarray:
        return _read_image(self.path)[None]

    def fingerprint(self) -> str:
        return file_sha256(self.path)

    def describe(self) -> str:
        return str(self.path)


@dataclass(frozen=True, eq=False)
class ImageArray(Media):
    """A still held in memory (FER2013 CSV pixels, FER+ images decoded once into one array)."""

    pixels: np.ndarray  # (H, W) gray or (H, W, 3) BGR uint8
    name: str = ""

    def load(self) -> np.ndarray:
        p = self.pixels
        return (cv2.cvtColor(p, cv2.COLOR_GRAY2BGR) if p.ndim == 2 else p)[None]

    def fingerprint(self) -> str:
        return hashlib.sha256(np.ascontiguousarray(self.pixels).tobytes()).hexdigest()

    def describe(self) -> str:
        return self.name or f"array {self.pixels.shape}"


@dataclass(frozen=True)
class FrameFiles(Media):
    """An ordered sequence of image files (CK+ sequences, Aff-Wild2 cropped-aligned folders)."""

    paths: tuple[Path, ...]
    kind = "sequence"

    def load(self) -> np.ndarray:
        frames = [_read_image(p) for p in self.paths]
        h, w = frames[0].shape[:2]
        return np.stack([f if f.shape[:2] == (h, w) else cv2.resize(f, (w, h)) for f in frames])

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for p in self.paths:
            h.update(file_sha256(p).encode())
        return h.hexdigest()

    def describe(self) -> str:
        return f"{self.paths[0].parent} ({len(self.paths)} frames)" if self.paths else "empty sequence"


@dataclass(frozen=True)
class VideoFile(Media):
    """A video file, decoded in full on load (dataset clips are seconds long)."""

    path: Path
    kind = "sequence"

    def load(self) -> np.ndarray:
        from emotrace.sources.video import VideoSource

        src = VideoSource(self.path)
        try:
            frames = [f.image for f in src]
        finally:
            src.close()
        if not frames:
            raise EmotraceError(f"no frame decodes in {self.path}")
        return np.stack(frames)

    def fingerprint(self) -> str:
        return file_sha256(self.path)

    def describe(self) -> str:
        return str(self.path)


@dataclass(eq=False)
class Sample:
    """One training/evaluation item in the common schema (see the module docstring)."""

    id: str
    media: Media
    label: int = -1  # index into the dataset's `classes`; -1 = no category label
    subject: str | None = None
    split: str | None = None
    soft_label: np.ndarray | None = None  # (C,) vote distribution over `classes`
    valence_arousal: np.ndarray | None = None  # (2,) per sample, or (T, 2) per frame with NaN where invalid
    va_proxy: bool = False  # True when valence/arousal come from circumplex coordinates, not annotation
    frame_labels: np.ndarray | None = None  # (T,) per-frame class index, -1 where invalid
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Dataset:
    """A read dataset: its samples, its class list and everything that was skipped, with the reason."""

    name: str
    root: Path
    classes: tuple[str, ...]
    samples: list[Sample]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (item, reason)
    precropped: bool = False  # images are already face crops (FER, CK+48, Aff-Wild2 cropped-aligned)
    notes: list[str] = field(default_factory=list)  # label mapping and modes, stated in every report

    def __len__(self) -> int:
        return len(self.samples)

    def labels(self) -> np.ndarray:
        return np.array([s.label for s in self.samples], np.int64)

    def subjects(self) -> list[str | None]:
        return [s.subject for s in self.samples]

    def where(self, **equals: Any) -> Dataset:
        """A view with the samples whose attributes equal the given values (e.g. `split="train"`)."""
        keep = [s for s in self.samples if all(getattr(s, k) == v for k, v in equals.items())]
        return Dataset(self.name, self.root, self.classes, keep, self.skipped, self.precropped, self.notes)

    def subset(self, indices: np.ndarray | list[int]) -> Dataset:
        keep = [self.samples[int(i)] for i in indices]
        return Dataset(self.name, self.root, self.classes, keep, self.skipped, self.precropped, self.notes)

    def skipped_summary(self) -> dict[str, int]:
        """Counts of skipped items by reason (the reason text before any ':' detail)."""
        return dict(Counter(reason.split(":")[0] for _, reason in self.skipped))
