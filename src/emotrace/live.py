"""`emotrace live`: the seeds' webcam loop. Shows every face with its track id and emotion in a window ('q' or Esc
quits) and prints frame-to-result latency; without a display it can write the annotated stream to a file."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from emotrace.errors import EmotraceError
from emotrace.pipeline import Analyzer
from emotrace.sinks import RunMeta, VideoSink
from emotrace.sinks.draw import draw_result
from emotrace.sinks.draw_signals import SignalHold
from emotrace.sources import open_source

log = logging.getLogger("emotrace")


class TkWindow:
    """A minimal Tk window (OpenCV's headless build has no imshow)."""

    def __init__(self, title: str) -> None:
        import tkinter as tk

        self.tk = tk
        self.root = tk.Tk()
        self.root.title(title)
        self.label = tk.Label(self.root)
        self.label.pack()
        self.closed = False
        self.root.bind("<Key>", self._key)
        self.root.protocol("WM_DELETE_WINDOW", self._close)

    def _key(self, event: Any) -> None:
        if event.keysym in ("q", "Q", "Escape"):
            self._close()

    def _close(self) -> None:
        self.closed = True

    def show(self, bgr: np.ndarray) -> None:
        rgb = bgr[:, :, ::-1]
        h, w = rgb.shape[:2]
        ppm = f"P6 {w} {h} 255 ".encode() + rgb.tobytes()
        self._img = self.tk.PhotoImage(data=ppm, format="PPM")
        self.label.configure(image=self._img)
        self.root.update()

    def destroy(self) -> None:
        try:
            self.root.destroy()
        except Exception:
            pass


def display_available() -> bool:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return False
    try:
        import tkinter  # noqa: F401
    except ImportError:
        return False
    return True


def require_display() -> None:
    """Fail early, before models load, when a window cannot be shown."""
    if not display_available():
        raise EmotraceError("no display available: use `emotrace live SOURCE --output annotated.mp4` to write "
                            "the annotated stream to a file instead")


def run_live(source: Any, analyzer: Analyzer, output: str | Path | None = None, max_frames: int | None = None,
             report_every: int = 30, quiet: bool = False) -> dict[str, float]:
    """Run until the source ends, 'q' is pressed or `max_frames`; returns latency statistics (ms)."""
    window = None
    if output is None:
        require_display()
        window = TkWindow("emotrace live (q to quit)")
    src = open_source(source)
    analyzer.reset()
    analyzer.config.batch_frames = 1
    sink = None
    if output is not None:
        sink = VideoSink(output)
        sink.open(RunMeta(source=src.name, classes=analyzer.classes, fps=src.fps, analyzer=analyzer.describe()))
    lat: list[float] = []
    hold = SignalHold()  # the window keeps a track's last signals between readings, as the video does
    n = 0
    t_start = time.perf_counter()
    try:
        for frame in src:
            t0 = time.perf_counter()
            res = analyzer.process_frame(frame)
            lat.append((time.perf_counter() - t0) * 1000)
            n += 1
            if window is not None:
                window.show(draw_result(frame.image, res, analyzer.classes, signals=hold.update(res)))
                if window.closed:
                    break
            if sink is not None:
                sink.write(res)
            if not quiet and n % report_every == 0:
                recent = np.array(lat[-report_every:])
                print(f"frame {n}: faces {len(res.faces)}, latency mean {recent.mean():.1f} ms, "
                      f"p95 {np.percentile(recent, 95):.1f} ms, {n / (time.perf_counter() - t_start):.1f} frames/s",
                      flush=True)
            if max_frames and n >= max_frames:
                break
        if sink is not None:
            sink.close()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    finally:
        src.close()
        if window is not None:
            window.destroy()
    arr = np.array(lat) if lat else np.zeros(1)
    return {"frames": n, "latency_ms_mean": float(arr.mean()), "latency_ms_p95": float(np.percentile(arr, 95))}
