"""Video files through OpenCV's FFmpeg backend, with container timestamps and rotation metadata honoured."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import cv2

from emotrace.errors import SourceError
from emotrace.sources.base import Source
from emotrace.types import Frame

log = logging.getLogger("emotrace")

TRUNCATED_BELOW = 0.9  # of the container's frame count, an estimate: decoding that stops earlier is a truncated file


def truncated(frames_read: int, frame_count: int | None) -> bool:
    """The one rule for a truncated or damaged video: decoding stopped well short of the frames it announced."""
    return bool(frame_count) and frames_read < TRUNCATED_BELOW * (frame_count or 0)


def open_capture(target: str | int, what: str, open_timeout_ms: int = 10000, read_timeout_ms: int = 10000,
                 ) -> cv2.VideoCapture:
    """A VideoCapture that auto-rotates and gives up on dead URLs within the timeouts."""
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, open_timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, read_timeout_ms]
    if isinstance(target, int):
        cap = cv2.VideoCapture(target)
    else:
        cap = cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"cannot open {what}")
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def _why_unreadable(p: Path) -> str:
    """The one line for a file OpenCV cannot open: FFmpeg's stream list tells audio-only files from the rest."""
    import subprocess

    try:
        import imageio_ffmpeg

        probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(p)], capture_output=True,
                               text=True, errors="replace", timeout=20)
        streams = [ln for ln in probe.stderr.splitlines() if ln.strip().startswith("Stream #")]
        container = "Input #0" in probe.stderr
    except (ImportError, OSError, subprocess.SubprocessError):
        streams, container = [], False
    if container and not streams:
        return f"no video stream in {p} (the container holds no streams)"
    if streams and not any(": Video:" in ln for ln in streams):
        kinds = sorted({ln.split(": ")[1].split(":")[0].strip().lower() for ln in streams if ": " in ln})
        return f"no video stream in {p} (only {', '.join(kinds)})"
    return f"not a readable image or video (unknown format or corrupt): {p}"


class CaptureSource(Source):
    """Frames from an open VideoCapture; timestamps are the container's presentation times where it has them."""

    def __init__(self, cap: cv2.VideoCapture, name: str) -> None:
        self.cap = cap
        self.name = name
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and 0 < fps < 1000 else None
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        self.frames_read = 0

    def _timestamp(self, index: int, last: float) -> float:
        ms = self.cap.get(cv2.CAP_PROP_POS_MSEC)
        if ms is not None and ms >= 0 and (index == 0 or ms / 1000.0 > last):
            return ms / 1000.0
        # No usable container time (some streams, some webcams): fall back to the nominal rate.
        return index / self.fps if self.fps else float(index)

    def __iter__(self) -> Iterator[Frame]:
        index, last = 0, -1.0
        while True:
            ok, image = self.cap.read()
            if not ok or image is None:
                break
            ts = self._timestamp(index, last)
            last = ts
            yield Frame(index=index, timestamp=ts, image=image, source=self.name)
            index += 1
        self.frames_read = index

    def close(self) -> None:
        self.cap.release()


class VideoSource(CaptureSource):
    """A video file (mp4, mov, avi, mkv, webm, flv, gif, ...). Fails at open time if no frame decodes."""

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        what = f"video {p}"
        try:
            cap = open_capture(str(p), what)
        except SourceError:
            raise SourceError(_why_unreadable(p)) from None
        super().__init__(cap, str(p))
        ok, first = cap.read()
        if not ok or first is None:
            cap.release()
            raise SourceError(f"no frame of {p} can be decoded (unsupported codec or corrupt file)")
        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        self._first = first

    def __iter__(self) -> Iterator[Frame]:
        yield from super().__iter__()
        if self.frames_read and truncated(self.frames_read, self.frame_count):
            # (no frame at all is the caller's one-line error, not a warning)
            self.incomplete = (f"decoding stopped at frame {self.frames_read} of {self.frame_count} (truncated or "
                               "damaged file)")
            log.warning("%s: %s; results cover the frames read", self.name, self.incomplete)
