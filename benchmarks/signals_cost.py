"""What face signals cost (issue 26), every figure measured in one run so the ratios are within it.

    PYTHONPATH=src python benchmarks/signals_cost.py [--shared ../shared] [--repeat 3]
        [--every 5,1] [--out benchmarks/results/signals_cost.json] [--skip photo,loop,profile]

1. in the loop (as bench_speed.py measures the default pipeline: `api.run(path, analyzer)`, threaded, no sinks,
   models loaded, one warm-up run each): frames/s on WolfgangLanger_Pexels.mp4 with signals off, every 5th frame
   of a track (signals=5) and every frame (signals=1), --repeat rounds of off / 5 / 1 interleaved; medians and the
   ratios to off (--every names other N too). Goals: every frame >= 40% of off, every 5th >= 80%.
2. one photo, whole process: `emotrace -q analyze single_face.jpg -o DIR --outputs csv` (bench_speed.py's start-up
   form) and with the default outputs (all), each with and without `--signals 1`, interleaved, medians of --repeat.
   Goal: <= 1.0 s with --signals 1.
3. where the reader's time goes: one signals=1 run single-threaded with the reader's parts timed per face (the
   square crop, the landmarker call, unpacking its results).
"""

from __future__ import annotations

import argparse
import json
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
CLIP = "WolfgangLanger_Pexels.mp4"
GOALS = {5: 0.80, 1: 0.40}  # signals every N frames -> least share of the off rate
PHOTO_GOAL_S = 1.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    return time.perf_counter() - t


def photo(media: Path, tmp: Path, repeat: int) -> dict[str, Any]:
    """Whole-process seconds of `emotrace analyze single_face.jpg`, with and without --signals 1."""
    variants = {"csv": ["--outputs", "csv"], "csv, --signals 1": ["--outputs", "csv", "--signals", "1"],
                "all outputs": [], "all outputs, --signals 1": ["--signals", "1"]}
    times: dict[str, list[float]] = {k: [] for k in variants}
    for i in range(repeat):
        for k, extra in variants.items():
            out = tmp / f"photo{i}-{len(times[k])}-{abs(hash(k))}"
            times[k].append(_wall([sys.executable, "-m", "emotrace.cli", "-q", "analyze",
                                   str(media / "single_face.jpg"), "-o", str(out), *extra]))
    return {k: {"seconds": v, "median_s": statistics.median(v)} for k, v in times.items()}


def _rate(n: int, fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def in_loop(media: Path, repeat: int, every: tuple[int, ...] = (5, 1)) -> dict[str, Any]:
    """Frames/s of `api.run` on the clip with signals off and every Nth frame of a track for each N of `every`
    (5 and 1 by default), interleaved rounds."""
    from emotrace.api import run
    from emotrace.pipeline import Analyzer
    from emotrace.sources import open_source

    path = str(media / CLIP)
    n = sum(1 for _ in open_source(path))
    analyzers = {0: Analyzer(), **{e: Analyzer(signals=e) for e in every}}
    measured: dict[int, int] = {}
    for k, an in analyzers.items():
        counts: list[int] = []
        run(path, an, on_result=lambda r, c=counts: c.extend(
            int(s == "measured") for s in (r.faces.signals.status if r.faces.signals is not None else [])))
        measured[k] = sum(counts)
    rates: dict[int, list[float]] = {k: [] for k in analyzers}
    for _ in range(repeat):
        for k, an in analyzers.items():
            rates[k].append(_rate(n, lambda a=an: run(path, a)))
    for an in analyzers.values():
        an.close()
    med = {k: statistics.median(v) for k, v in rates.items()}
    return {"frames": n, "faces_measured": measured, "runs": {str(k): v for k, v in rates.items()},
            "median_fps": {str(k): v for k, v in med.items()},
            "ratio_to_off": {str(e): med[e] / med[0] for e in every}}


def profile(media: Path) -> dict[str, Any]:
    """Per-face milliseconds of the reader's parts over one single-threaded signals=1 run of the clip."""
    from emotrace.api import run
    from emotrace.faces import signals as sig
    from emotrace.pipeline import Analyzer

    an = Analyzer(signals=1)
    reader = an.signals
    assert reader is not None
    spent: dict[str, list[float]] = {"crop": [], "landmarker": [], "measure (all)": []}
    crop0, measure0 = sig.square_crop, reader._measure

    def timed(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[key].append(time.perf_counter() - t)
        return wrapper

    class Landmarker:  # the graph's own methods cannot be patched in place
        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.detect = timed("landmarker", inner.detect)
            for name in ("detect_for_video",):
                if hasattr(inner, name):
                    setattr(self, name, timed("landmarker", getattr(inner, name)))

        def close(self) -> None:
            self.inner.close()

    sig.square_crop = timed("crop", crop0)
    reader._measure = timed("measure (all)", measure0)  # type: ignore[method-assign]
    reader._landmarker = Landmarker(reader._landmarker)
    try:
        run(str(media / CLIP), an)  # warm-up
        for v in spent.values():
            v.clear()
        t = time.perf_counter()
        run(str(media / CLIP), an, threaded=False)
        total = time.perf_counter() - t
    finally:
        sig.square_crop = crop0
        an.close()
    res: dict[str, Any] = {"faces": len(spent["measure (all)"]), "run_s": total}
    for k, v in spent.items():
        res[f"{k}_ms_per_face"] = 1000 * statistics.median(v) if v else None
        res[f"{k}_s_total"] = sum(v)
    res["rest_ms_per_face"] = (res["measure (all)_ms_per_face"] - res["crop_ms_per_face"]
                               - res["landmarker_ms_per_face"])
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--every", default="5,1", help="signals values to measure against off, comma-separated")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: photo,loop,profile")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "signals_cost.json"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from emotrace.provenance import provenance

    media = Path(args.shared) / "media"
    skip = set(filter(None, args.skip.split(",")))
    report: dict[str, Any] = {"provenance": provenance(vars(args)), "load_average_start": os.getloadavg()}
    lines: list[str] = []
    if "loop" not in skip:
        every = tuple(int(e) for e in args.every.split(","))
        r = report["loop"] = in_loop(media, args.repeat, every)
        med, ratio = r["median_fps"], r["ratio_to_off"]
        lines.append(f"in the loop, {CLIP} ({r['frames']} frames), api.run threaded, no sinks, medians of "
                     f"{args.repeat} interleaved rounds:")
        lines.append(f"  signals off {med['0']:.1f} frames/s ({', '.join(f'{x:.1f}' for x in r['runs']['0'])})")
        for e in every:
            got, goal = ratio[str(e)], GOALS.get(e)
            verdict = "" if goal is None else f" (goal >= {100 * goal:.0f}%) " + (
                "PASS" if got >= goal else f"FAIL (short by {100 * (goal - got):.1f} points)")
            lines.append(f"  signals={e} {med[str(e)]:.1f} frames/s "
                         f"({', '.join(f'{x:.1f}' for x in r['runs'][str(e)])}), "
                         f"{r['faces_measured'][e]} faces measured: {100 * got:.1f}% of off{verdict}")
        print("\n".join(lines[-1 - len(every):]), flush=True)
    if "photo" not in skip:
        with tempfile.TemporaryDirectory() as d:
            r = report["photo"] = photo(media, Path(d), args.repeat)
        lines.append(f"one photo, whole process (`emotrace -q analyze single_face.jpg -o DIR ...`), medians of "
                     f"{args.repeat} interleaved:")
        for k, v in r.items():
            goal = ""
            if "signals" in k:
                goal = f" (goal <= {PHOTO_GOAL_S:g} s) " + ("PASS" if v["median_s"] <= PHOTO_GOAL_S else
                                                           f"FAIL by {v['median_s'] - PHOTO_GOAL_S:.2f} s")
            lines.append(f"  {k}: {v['median_s']:.2f} s ({', '.join(f'{s:.2f}' for s in v['seconds'])}){goal}")
        print("\n".join(lines[-5:]), flush=True)
    if "profile" not in skip:
        r = report["profile"] = profile(media)
        lines.append(f"reader profile, signals=1, single-threaded run ({r['faces']} faces, {r['run_s']:.2f} s): "
                     f"per face (median) crop {r['crop_ms_per_face']:.2f} ms, landmarker "
                     f"{r['landmarker_ms_per_face']:.2f} ms, rest {r['rest_ms_per_face']:.2f} ms; totals crop "
                     f"{r['crop_s_total']:.2f} s, landmarker {r['landmarker_s_total']:.2f} s, reader "
                     f"{r['measure (all)_s_total']:.2f} s")
        print(lines[-1], flush=True)
    report["load_average_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print("\nsummary\n" + "\n".join(lines) + f"\nload average {report['load_average_start'][0]:.2f} at the start, "
          f"{report['load_average_end'][0]:.2f} at the end; results: {args.out}")


if __name__ == "__main__":
    main()
