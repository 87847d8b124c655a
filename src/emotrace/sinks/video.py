"""The annotated video as browser-playable H.264 MP4 (yuv420p, faststart), through the ffmpeg binary that
imageio-ffmpeg ships; OpenCV's VideoWriter cannot write H.264 here.

The encoder gets half of the CPUs this process may use (at least one): left to itself, libx264 starts about 1.5
threads per CPU and fights the decoder, the detector and the models for them. On 2 CPUs one encoder thread made
the whole run with every output 8% faster (132.5 against 122.5 frames/s, medians of 6 interleaved runs on
WolfgangLanger_Pexels.mp4), with a file of the same size (docs/benchmarks.md)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from emotrace.results import FrameResult
from emotrace.sinks.base import RunMeta, Sink, atomic_path, discard, publish
from emotrace.sinks.draw import draw_result
from emotrace.sinks.draw_signals import SignalHold


def encoder_threads() -> int:
    """Half of the CPUs this process may run on, at least one."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 2
    return max(1, cpus // 2)


class VideoSink(Sink):
    """Writes `path` (.mp4). Odd frame sizes are padded to even, as yuv420p requires."""

    def __init__(self, path: str | Path, fps: float | None = None, crf: int = 23, threads: int = 0) -> None:
        self.path = Path(path)
        self.tmp = atomic_path(self.path).with_suffix(".part.mp4")
        self.fps, self.crf = fps, crf
        self.threads = threads or encoder_threads()
        self._writer = None
        self._size: tuple[int, int] | None = None
        self._hold = SignalHold()  # signals read every N frames stay on screen between readings

    def open(self, meta: RunMeta) -> None:
        super().open(meta)
        self.fps = self.fps or meta.fps or 25.0
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _start(self, w: int, h: int) -> None:
        import imageio_ffmpeg

        self._size = (w + w % 2, h + h % 2)
        self._writer = imageio_ffmpeg.write_frames(
            str(self.tmp), self._size, fps=float(self.fps), codec="libx264", pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p", macro_block_size=2, quality=None,
            output_params=["-crf", str(self.crf), "-preset", "veryfast", "-threads", str(self.threads),
                           "-movflags", "+faststart"],
            ffmpeg_log_level="error")
        self._writer.send(None)

    def write(self, result: FrameResult) -> None:
        img = draw_result(result.frame.image, result, self.meta.classes, signals=self._hold.update(result))
        h, w = img.shape[:2]
        if self._writer is None:
            self._start(w, h)
        assert self._size is not None
        if (w, h) != self._size:
            pad = np.zeros((self._size[1], self._size[0], 3), np.uint8)
            pad[: min(h, self._size[1]), : min(w, self._size[0])] = img[: self._size[1], : self._size[0]]
            img = pad
        self._writer.send(np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)))

    def close(self) -> list[Path]:
        if self._writer is None:
            return []
        self._writer.close()
        return [publish(self.tmp, self.path)]

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:
                pass
        discard(self.tmp)
