"""Still-image sources: one file, a folder, or numpy arrays handed over through the API."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from emotrace.errors import SourceError
from emotrace.sources.base import IMAGE_EXTS, Source
from emotrace.types import Frame


def to_bgr8(img: np.ndarray, what: str = "image") -> np.ndarray:
    """Any gray, gray+alpha, BGR, BGRA image of 8, 16 bit or float depth -> BGR uint8 (alpha over black)."""
    if img is None or img.size == 0:
        raise SourceError(f"{what}: empty image")
    if img.dtype == np.uint16:
        img = (img / 257.0).round().astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        hi = 255.0 if float(np.nanmax(img)) > 1.0 else 1.0
        img = np.clip(np.nan_to_num(img) * (255.0 / hi), 0, 255).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.ndim != 3:
        raise SourceError(f"{what}: unsupported image shape {img.shape}")
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 2:  # gray + alpha
        gray = (img[:, :, 0].astype(np.float32) * (img[:, :, 1] / 255.0)).astype(np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if channels == 4:
        alpha = img[:, :, 3:4].astype(np.float32) / 255.0
        return (img[:, :, :3].astype(np.float32) * alpha).astype(np.uint8)
    if channels == 3:
        return np.ascontiguousarray(img)
    raise SourceError(f"{what}: unsupported number of channels ({channels})")


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as BGR uint8, honouring EXIF orientation; one-line error when it cannot be decoded."""
    p = Path(path)
    if not p.is_file():
        raise SourceError(f"no such file: {p}")
    if p.stat().st_size == 0:
        raise SourceError(f"file is empty: {p}")
    # ANYDEPTH|ANYCOLOR keeps 16-bit depth and gray, and (unlike IMREAD_UNCHANGED) applies EXIF orientation,
    # which phone photos need; an alpha channel is dropped, leaving the colours as stored.
    img = cv2.imdecode(np.fromfile(str(p), np.uint8), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if img is None:
        raise SourceError(f"not a readable image (corrupt or unsupported format): {p}")
    return to_bgr8(img, str(p))


class ImageSource(Source):
    """One still image as a one-frame stream."""

    is_still = True  # analysed as a photo: no temporal stage

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.frame_count = 1
        self._image = read_image(self.path)  # fail at open time, not mid-run

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(index=0, timestamp=0.0, image=self._image, source=self.name)


class FolderSource(Source):
    """Every image of a folder, in name order; unreadable files are skipped with a warning, not a crash.

    The photos are independent by default (`is_still`); `sequence=True` says they are one video's frames.
    """

    def __init__(self, path: str | Path, sequence: bool = False) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.is_still = not sequence
        self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_EXTS and p.is_file())
        if not self.files:
            raise SourceError(f"folder has no images ({', '.join(sorted(IMAGE_EXTS))}): {path}")
        self.frame_count = len(self.files)
        self.skipped: list[str] = []

    def __iter__(self) -> Iterator[Frame]:
        import logging

        index = 0
        for p in self.files:
            try:
                img = read_image(p)
            except SourceError as exc:
                logging.getLogger("emotrace").warning("skipped %s", exc)
                self.skipped.append(str(p))
                continue
            yield Frame(index=index, timestamp=float(index), image=img, source=str(p))
            index += 1


class ArraySource(Source):
    """Frames handed over as numpy arrays (one image, a (T,H,W[,C]) stack, or a list); `fps` sets timestamps."""

    def __init__(self, frames: np.ndarray | Sequence[np.ndarray], fps: float = 30.0) -> None:
        if isinstance(frames, np.ndarray) and frames.ndim in (2, 3) and not (frames.ndim == 3 and frames.shape[2] > 4):
            frames = [frames]
        self.frames = frames
        self.fps = fps
        self.name = "<array>"
        self.frame_count = len(frames)

    def __iter__(self) -> Iterator[Frame]:
        for i, img in enumerate(self.frames):
            yield Frame(index=i, timestamp=i / self.fps, image=to_bgr8(np.asarray(img), f"array frame {i}"),
                        source=self.name)
