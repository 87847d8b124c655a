"""The Source interface every concrete source implements, and the file kinds sources recognise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emotrace.types import Frame

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
VIDEO_EXTS = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".flv", ".gif", ".m4v", ".mpg", ".mpeg", ".wmv", ".3gp", ".ts"}
STREAM_SCHEMES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")


class Source:
    """An ordered stream of frames. `fps` is nominal (None where unknown); `frame_count` may be an estimate."""

    name: str = ""
    fps: float | None = None
    frame_count: int | None = None
    is_live: bool = False  # a webcam or stream: the causal temporal stage, no look-ahead
    is_still: bool = False  # independent photos: each detected alone, no tracking or temporal state between them
    incomplete: str | None = None  # after iteration: why the source ended before its end (truncated, damaged)

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
