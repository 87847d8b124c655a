"""The Source interface and the dispatcher that turns a user's argument into a source."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from emotrace.errors import SourceError
from emotrace.types import Frame

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
VIDEO_EXTS = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".flv", ".gif", ".m4v", ".mpg", ".mpeg", ".wmv", ".3gp", ".ts"}
STREAM_SCHEMES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")


class Source:
    """An ordered stream of frames. `fps` is nominal (None where unknown); `frame_count` may be an estimate."""

    name: str = ""
    fps: float | None = None
    frame_count: int | None = None
    is_live: bool = False
    incomplete: str | None = None  # after iteration: why the source ended before its end (truncated, damaged)

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_source(spec: Any, **kwargs: Any) -> Source:
    """Open what the user named: a path (image, folder, video), a URL, a webcam index, or numpy frames."""
    from emotrace.sources.camera import StreamSource, WebcamSource
    from emotrace.sources.images import ArraySource, FolderSource, ImageSource
    from emotrace.sources.video import VideoSource

    if isinstance(spec, Source):
        return spec
    if isinstance(spec, (list, tuple)) and not spec:
        raise SourceError("no frames given (an empty list)")
    if isinstance(spec, np.ndarray) or (isinstance(spec, (list, tuple)) and spec and isinstance(spec[0], np.ndarray)):
        return ArraySource(spec, **kwargs)
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return WebcamSource(int(spec), **kwargs)
    text = str(spec)
    if text.lower().startswith(STREAM_SCHEMES):
        return StreamSource(text, **kwargs)
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme:
        raise SourceError(f"unsupported URL scheme {scheme.group(1)}:// (supported: "
                          f"{', '.join(s[:-3] for s in STREAM_SCHEMES)}; or a file, folder or webcam index)")
    path = Path(text).expanduser()
    if not path.exists():
        raise SourceError(f"no such file or folder: {text}")
    if path.is_dir():
        return FolderSource(path, **kwargs)
    if path.stat().st_size == 0:
        raise SourceError(f"file is empty: {text}")
    import cv2

    # The content decides, not the name: a JPEG saved as .mp4 is an image, an MP4 saved as .jpg a video.
    if path.suffix.lower() != ".gif" and cv2.haveImageReader(str(path)):
        return ImageSource(path, **kwargs)  # image content, damaged or not: read (or refused) as an image
    if path.suffix.lower() in IMAGE_EXTS:
        try:
            return VideoSource(path, **kwargs)
        except SourceError:
            raise SourceError(f"not a readable image (corrupt or unsupported format): {text}") from None
    return VideoSource(path, **kwargs)
