"""What every reader shares: file kinds, cheap validity checks and label lookup with the reason a label fails."""

from __future__ import annotations

import re
from pathlib import Path

import cv2

from emotrace.labels import EMOTIONS, canonical

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".flv", ".m4v", ".mpg", ".mpeg", ".wmv"}


def natural_key(path: Path) -> list[object]:
    """Sort key that puts frame_2 before frame_10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def image_files(folder: Path) -> list[Path]:
    """The image files directly inside a folder, in natural order; hidden files ignored."""
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                   and not p.name.startswith(".")), key=natural_key)


def image_problem(path: Path) -> str | None:
    """Why an image cannot be used, or None. Decodes it: a file that exists but is corrupt is caught here."""
    if not path.is_file():
        return "missing file"
    if path.stat().st_size == 0:
        return "empty file"
    if cv2.imread(str(path), cv2.IMREAD_UNCHANGED) is None:
        return "corrupt or unreadable image"
    return None


def video_problem(path: Path) -> tuple[str | None, int]:
    """Why a video cannot be used (or None) and its frame count as the container states it."""
    if not path.is_file():
        return "missing file", 0
    if path.stat().st_size == 0:
        return "empty file", 0
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened():
            return "corrupt or unreadable video", 0
        ok, frame = cap.read()
        if not ok or frame is None:
            return "corrupt or unreadable video", 0
        return None, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()


def class_index(name: str, classes: tuple[str, ...]) -> int | None:
    """Index of a dataset's label name in `classes` (aliases such as 'anger', 'happiness', 'SU' accepted)."""
    key = name.strip().lower()
    if key == "contempt":
        return classes.index("contempt") if "contempt" in classes else None
    try:
        return classes.index(canonical(key))
    except (KeyError, ValueError):
        return None


def seven_or_eight(include_contempt: bool) -> tuple[str, ...]:
    from emotrace.data.schema import CONTEMPT_CLASSES

    return CONTEMPT_CLASSES if include_contempt else EMOTIONS
