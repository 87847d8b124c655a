"""Interleaved A/B timings behind the choices in docs/benchmarks.md "Speed (issue 16)": each variant runs in turn,
`--repeat` times, and the medians are printed, so a change of the machine's speed hits every variant alike.

    python benchmarks/ab_speed.py startup --src OLD/src --src src [--repeat 12]
        whole-process `emotrace analyze single_face.jpg --outputs csv` with each source tree on PYTHONPATH
        (an older commit: `git worktree add /tmp/old COMMIT`, then --src /tmp/old/src)
    python benchmarks/ab_speed.py encoder-threads [--repeat 6]
        in the loop with every output: libx264's own thread count against one encoder thread
    python benchmarks/ab_speed.py ort-threads [--repeat 4]
        in the loop, default pipeline: the frame model's ONNX Runtime threads 0 (library default), 1 and 2
    python benchmarks/ab_speed.py presets
        libx264 alone on the clip's frames at crf 23: time and file size per preset, RGB and BGR input
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVERY_OUTPUT = ["csv", "parquet", "jsonl", "video", "timeline", "summary"]


def interleaved(variants: dict[str, Callable[[int], float]], repeat: int, unit: str) -> None:
    """Run each variant in turn `repeat` times; print the median and every value."""
    res: dict[str, list[float]] = {k: [] for k in variants}
    for i in range(repeat):
        for name, fn in variants.items():
            res[name].append(fn(i))
    for name, values in res.items():
        print(f"{name:28s} median {statistics.median(values):8.3f} {unit}   "
              + " ".join(f"{v:.3g}" for v in values))


def startup(media: Path, srcs: list[str], repeat: int, tmp: Path) -> None:
    def one(src: str) -> Callable[[int], float]:
        def run(i: int) -> float:
            env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()))
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "emotrace.cli", "-q", "analyze", str(media / "single_face.jpg"),
                            "-o", str(tmp / f"{abs(hash(src))}-{i}"), "--outputs", "csv"], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return time.perf_counter() - t
        return run

    interleaved({src: one(src) for src in srcs}, repeat, "s")


def _without_thread_flag(params: list[str]) -> list[str]:
    out, skip = [], False
    for p in params:
        if skip:
            skip = False
        elif p == "-threads":
            skip = True
        else:
            out.append(p)
    return out


def encoder_threads(clip: Path, repeat: int, tmp: Path) -> None:
    import imageio_ffmpeg

    from emotrace.api import build_sinks, run
    from emotrace.pipeline import Analyzer
    from emotrace.sources import open_source

    n = sum(1 for _ in open_source(str(clip)))
    an = Analyzer()
    run(str(clip), an)  # warm-up
    original = imageio_ffmpeg.write_frames

    def variant(threads: int | None) -> Callable[[int], float]:
        def go(i: int) -> float:
            def write_frames(*a: Any, output_params: list[str] | None = None, **k: Any) -> Any:
                params = _without_thread_flag(list(output_params or []))
                if threads is not None:
                    params = ["-threads", str(threads), *params]
                return original(*a, output_params=params, **k)

            imageio_ffmpeg.write_frames = write_frames
            try:
                sinks = build_sinks(tmp / f"enc{threads}-{i}", EVERY_OUTPUT)
                t = time.perf_counter()
                run(str(clip), an, sinks)
                return n / (time.perf_counter() - t)
            finally:
                imageio_ffmpeg.write_frames = original
        return go

    interleaved({"libx264 default threads": variant(None), "1 encoder thread": variant(1)}, repeat, "frames/s")


def ort_threads(clip: Path, repeat: int) -> None:
    from emotrace.api import run
    from emotrace.pipeline import Analyzer
    from emotrace.sources import open_source

    n = sum(1 for _ in open_source(str(clip)))
    analyzers = {t: Analyzer(threads=t) for t in (0, 1, 2)}
    for an in analyzers.values():
        run(str(clip), an)  # warm-up

    def variant(an: Any) -> Callable[[int], float]:
        def go(i: int) -> float:
            t = time.perf_counter()
            run(str(clip), an)
            return n / (time.perf_counter() - t)
        return go

    interleaved({f"frame model threads {t}": variant(an) for t, an in analyzers.items()}, repeat, "frames/s")


def presets(clip: Path, tmp: Path) -> None:
    import cv2
    import imageio_ffmpeg
    import numpy as np

    cap = cv2.VideoCapture(str(clip))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    h, w = frames[0].shape[:2]
    for preset in ("veryfast", "superfast", "ultrafast"):
        for fmt in ("rgb24", "bgr24"):
            out = tmp / f"{preset}-{fmt}.mp4"
            t = time.perf_counter()
            writer = imageio_ffmpeg.write_frames(str(out), (w, h), fps=30.0, codec="libx264", pix_fmt_in=fmt,
                                                 pix_fmt_out="yuv420p", macro_block_size=2, quality=None,
                                                 output_params=["-crf", "23", "-preset", preset],
                                                 ffmpeg_log_level="error")
            writer.send(None)
            for f in frames:
                writer.send(np.ascontiguousarray(cv2.cvtColor(f, cv2.COLOR_BGR2RGB)) if fmt == "rgb24" else f)
            writer.close()
            print(f"{preset:10s} {fmt}: {time.perf_counter() - t:.2f} s, {out.stat().st_size // 1024} KB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["startup", "encoder-threads", "ort-threads", "presets"])
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--clip", default="WolfgangLanger_Pexels.mp4")
    ap.add_argument("--src", action="append", default=[], help="startup: a source tree (give two or more)")
    ap.add_argument("--repeat", type=int, default=0, help="runs per variant (default: 12, 6, 4)")
    args = ap.parse_args()
    media = Path(args.shared) / "media"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.what == "startup":
            if len(args.src) < 2:
                ap.error("startup compares source trees: give --src twice or more")
            startup(media, args.src, args.repeat or 12, tmp)
        elif args.what == "encoder-threads":
            encoder_threads(media / args.clip, args.repeat or 6, tmp)
        elif args.what == "ort-threads":
            ort_threads(media / args.clip, args.repeat or 4)
        else:
            presets(media / args.clip, tmp)


if __name__ == "__main__":
    main()
