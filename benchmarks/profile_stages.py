"""Where a run's time goes: wall time per pipeline stage, per frame and per face, measured in one run.

    python benchmarks/profile_stages.py [--shared ../shared] [--clip WolfgangLanger_Pexels.mp4] [--outputs csv]
        [--repeat 2] [--per-sink]

Each stage's method on one Analyzer is wrapped in a timer (decode = time spent in the source's iterator; sink =
every sink's `write` and `close`, or each sink apart with `--per-sink`); "other" is what is left of the wall time
(Python glue, result rows). The last of `--repeat` runs is reported (the first warms the models). Start-up
(imports and model creation) is timed apart. Single-threaded unless `--threaded`, so the stage times add up to the
wall time.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--clip", default="WolfgangLanger_Pexels.mp4")
    ap.add_argument("--outputs", default="csv")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threaded", action="store_true", help="the threaded run (stage times then overlap)")
    ap.add_argument("--per-sink", action="store_true", help="time each output apart instead of all as `sinks`")
    ap.add_argument("--out", default="benchmarks/results/profile")
    args = ap.parse_args()

    t0 = time.perf_counter()
    from emotrace.api import build_sinks, run
    from emotrace.outputs import parse_outputs
    from emotrace.pipeline import Analyzer
    from emotrace.sources import open_source

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    an = Analyzer()
    t_models = time.perf_counter() - t0
    clock: dict[str, float] = defaultdict(float)

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                clock[name] += time.perf_counter() - t
        return wrapper

    an.detector.detect = timed("detect", an.detector.detect)
    an._crops = timed("align (crops)", an._crops)
    model_call = an.model.__call__
    an.model = type("Timed", (), {"__call__": staticmethod(timed("frame model", model_call)),
                                  "__getattr__": lambda s, k: getattr(model_call.__self__, k)})()
    an.temporal.step = timed("temporal", an.temporal.step)
    reset = an.reset

    def reset_and_wrap() -> None:
        reset()
        an.tracker.update = timed("track", an.tracker.update)
        an.tracker.coast = timed("track", an.tracker.coast)
        if an.cuts is not None:
            an.cuts.is_cut = timed("shot cuts", an.cuts.is_cut)
    an.reset = reset_and_wrap

    path = str(Path(args.shared) / "media" / args.clip)

    def source() -> Any:
        src = open_source(path)
        cap = getattr(src, "cap", None)
        if cap is not None:  # a video: time the decoder's read

            class TimedCapture:
                read = staticmethod(timed("decode", cap.read))

                def __getattr__(self, k: str) -> Any:
                    return getattr(cap, k)
            src.cap = TimedCapture()
        return src

    faces = 0
    n = 0
    wall = 0.0
    for i in range(args.repeat):
        clock.clear()
        sinks = build_sinks(Path(args.out) / str(i), parse_outputs(args.outputs.split(",")))
        for s in sinks:
            kind = getattr(s, "fmt", "") or type(s).__name__.removesuffix("Sink").lower()
            stage = f"sink: {kind}" if args.per_sink else "sinks"
            s.write = timed(stage, s.write)
            s.close = timed(stage, s.close)
        counts = {"frames": 0, "faces": 0}

        def count(res: Any, counts: dict[str, int] = counts) -> None:
            counts["frames"] += 1
            counts["faces"] += len(res.faces)
        t = time.perf_counter()
        kw = {} if args.threaded else {"threaded": False}
        try:
            run(source(), an, sinks, on_result=count, **kw)
        except TypeError:  # a version of run() before issue 16: single-threaded anyway
            run(source(), an, sinks, on_result=count)
        wall = time.perf_counter() - t
        n, faces = counts["frames"], counts["faces"]
    print(f"{args.clip}: {n} frames, {faces} faces, outputs {args.outputs}; wall {wall:.3f} s "
          f"({n / wall:.1f} frames/s); start-up: imports {t_import:.2f} s, models {t_models:.2f} s")
    print("| stage | total s | share | ms per frame | ms per face |")
    print("|---|---|---|---|---|")
    rest = wall - sum(clock.values())
    for k, v in sorted({**clock, "other (glue, rows)": rest}.items(), key=lambda kv: -kv[1]):
        print(f"| {k} | {v:.3f} | {v / wall:.1%} | {1000 * v / n:.2f} | {1000 * v / max(faces, 1):.2f} |")


if __name__ == "__main__":
    main()
