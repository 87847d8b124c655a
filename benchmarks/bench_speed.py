"""Issue 16's speed goals, every figure measured in one run (ratios within the run, so machine load cancels).

    python benchmarks/bench_speed.py [--shared ../shared] [--peers-python /work/peers-venv/bin/python]
        [--repeat 3] [--minutes 10] [--out benchmarks/results/bench_speed.json]

1. start-up: `emotrace analyze single_face.jpg -o DIR --outputs csv`, whole process, median of --repeat.
2. end to end: `emotrace analyze WolfgangLanger_Pexels.mp4 --outputs csv` against the `fer` package on the same
   video (benchmarks/fer_video.py in the peers venv: Haar + its classifier on every frame), runs interleaved,
   medians and their ratio. Skipped without --peers-python.
3. in the loop (models loaded, one warm-up run): frames/s of decode only, the default pipeline, and the pipeline
   writing every output, threaded (the default) and single-threaded (`run(threaded=False)`, BlazeFace's two models
   one after the other: the shape before issue 16), medians of --repeat, interleaved.
4. live: `run_live` (process_frame per frame, batch 1) on the clip scaled to 640x480: latency mean and p95.
5. memory: `emotrace -q analyze` with every output on WolfgangLanger_Pexels.mp4 looped to --minutes; the resident
   memory of the process (and of it plus its ffmpeg child) sampled every 10 s, and the peak (VmHWM).
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVERY_OUTPUT = ["csv", "parquet", "jsonl", "video", "timeline", "summary"]


def wall(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "emotrace.cli", "-q", *args]


def env_with_src() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def startup(media: Path, tmp: Path, repeat: int) -> dict[str, Any]:
    times = [wall(cli("analyze", str(media / "single_face.jpg"), "-o", str(tmp / f"s{i}"), "--outputs", "csv"),
                  env_with_src()) for i in range(repeat)]
    return {"seconds": times, "median_s": statistics.median(times)}


def end_to_end(media: Path, tmp: Path, repeat: int, peers: str | None) -> dict[str, Any]:
    video = str(media / "WolfgangLanger_Pexels.mp4")
    ours, fer = [], []
    for i in range(repeat):
        ours.append(wall(cli("analyze", video, "-o", str(tmp / f"e{i}"), "--outputs", "csv"), env_with_src()))
        if peers:
            fer.append(wall([peers, str(ROOT / "benchmarks" / "fer_video.py"), video, str(tmp / f"fer{i}.csv")]))
    res: dict[str, Any] = {"emotrace_s": ours, "emotrace_median_s": statistics.median(ours)}
    if fer:
        res.update(fer_s=fer, fer_median_s=statistics.median(fer),
                   ratio=statistics.median(fer) / statistics.median(ours))
    return res


def _rate(n: int, fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def _clip(an: Any, path: str, tmp: Path, repeat: int) -> dict[str, Any]:
    from emotrace.api import build_sinks, run
    from emotrace.sources import open_source

    n = sum(1 for _ in open_source(path))
    run(path, an)  # warm-up
    runs: dict[str, list[float]] = {}
    for k in range(repeat):
        runs.setdefault("decode only", []).append(_rate(n, lambda: [None for _ in open_source(path)]))
        for outputs in (False, True):
            for threaded in (True, False):
                an.detector.parallel = threaded
                sinks = build_sinks(tmp / f"loop{k}{outputs}{threaded}", EVERY_OUTPUT) if outputs else []
                key = f"{'every output' if outputs else 'pipeline'}, {'threaded' if threaded else 'single-threaded'}"
                runs.setdefault(key, []).append(_rate(n, lambda s=sinks, t=threaded: run(path, an, s, threaded=t)))
    an.detector.parallel = True
    return {"frames": n, **{k: statistics.median(v) for k, v in runs.items()}, "runs": runs}


def in_loop(media: Path, tmp: Path, repeat: int) -> dict[str, Any]:
    from emotrace.pipeline import Analyzer

    an = Analyzer()
    return {name: _clip(an, str(media / name), tmp, repeat)
            for name in ("WolfgangLanger_Pexels.mp4", "short_hamilton_clip.mp4")}


def live(media: Path, tmp: Path) -> dict[str, Any]:
    import imageio_ffmpeg

    from emotrace.live import run_live
    from emotrace.pipeline import Analyzer

    clip = tmp / "live_640x480.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i",
                    str(media / "WolfgangLanger_Pexels.mp4"), "-vf", "scale=640:480", "-an", str(clip)], check=True)
    an = Analyzer()
    run_live(str(clip), an, output=tmp / "live_warm.mp4", max_frames=30, quiet=True)
    return run_live(str(clip), an, output=tmp / "live.mp4", quiet=True)


def rss_kb(pid: int) -> tuple[int, int]:
    """VmRSS of pid, and of pid plus its children (ffmpeg), in kB."""
    def one(p: int) -> int:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    own = one(pid)
    kids = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += sum(one(int(c)) for c in (task / "children").read_text().split())
        except OSError:
            pass
    return own, own + kids


def memory(media: Path, tmp: Path, minutes: float, every_s: float = 10.0) -> dict[str, Any]:
    import imageio_ffmpeg

    clip = media / "WolfgangLanger_Pexels.mp4"
    video = tmp / f"long_{minutes:g}min.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-stream_loop", "-1", "-i",
                    str(clip), "-t", str(minutes * 60), "-c", "copy", str(video)], check=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cli("analyze", str(video), "-o", str(tmp / "long")), env=env_with_src(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[tuple[float, int, int]] = []
    hwm = 0
    while proc.poll() is None:
        own, tree = rss_kb(proc.pid)
        try:
            hwm = max(hwm, int(next(ln for ln in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                                    if ln.startswith("VmHWM:")).split()[1]))
        except (OSError, StopIteration):
            pass
        if own > 10 * 1024:  # started
            samples.append((round(time.perf_counter() - t0, 1), own // 1024, tree // 1024))
            print(f"  memory sample: {samples[-1][0]:g} s, process {samples[-1][1]} MB, with ffmpeg "
                  f"{samples[-1][2]} MB", flush=True)
        time.sleep(every_s)
    secs = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"analyze exited {proc.returncode}")
    frames = json.loads((tmp / "long" / "summary.json").read_text())["frames"]
    own_mb = [s[1] for s in samples] or [0]
    third = len(own_mb) // 3
    return {"minutes": minutes, "frames": frames, "seconds": secs, "frames_per_s": frames / secs,
            "peak_rss_mb_process": hwm // 1024, "peak_rss_mb_with_ffmpeg": max(s[2] for s in samples),
            "median_rss_mb_second_third": statistics.median(own_mb[third:2 * third] or own_mb),
            "median_rss_mb_last_third": statistics.median(own_mb[2 * third:]),
            "samples_s_process_mb_tree_mb": samples}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--peers-python", default=None, help="python of the venv with `fer` (see bench_peers.py)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the memory run (0: skip)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: startup,e2e,loop,live,memory")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_speed.json"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from emotrace.provenance import provenance

    media = Path(args.shared) / "media"
    skip = set(filter(None, args.skip.split(",")))
    report: dict[str, Any] = {"provenance": provenance(vars(args)), "load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "startup" not in skip:
            r = report["startup"] = startup(media, tmp, args.repeat)
            print(f"start-up, single_face.jpg --outputs csv: median {r['median_s']:.2f} s "
                  f"({', '.join(f'{s:.2f}' for s in r['seconds'])}); goal <= 1.0 s", flush=True)
        if "e2e" not in skip:
            r = report["end_to_end"] = end_to_end(media, tmp, args.repeat, args.peers_python)
            line = f"end to end, WolfgangLanger_Pexels.mp4 --outputs csv: emotrace {r['emotrace_median_s']:.2f} s"
            if "ratio" in r:
                line += f", fer {r['fer_median_s']:.2f} s: {r['ratio']:.2f}x fer (goal >= 10x)"
            print(line, flush=True)
        if "loop" not in skip:
            r = report["in_loop"] = in_loop(media, tmp, args.repeat)
            for clip, v in r.items():
                print(f"in the loop, {clip} ({v['frames']} frames), frames/s (median of {args.repeat}):")
                for k in ("decode only", "pipeline, threaded", "pipeline, single-threaded", "every output, threaded",
                          "every output, single-threaded"):
                    print(f"  {k:32s} {v[k]:7.1f}   ratio to decode {v[k] / v['decode only']:.3f}")
                gain = v["pipeline, threaded"] / v["pipeline, single-threaded"]
                gain_all = v["every output, threaded"] / v["every output, single-threaded"]
                print(f"  threaded / single-threaded: pipeline {gain:.2f}x, every output {gain_all:.2f}x", flush=True)
        if "live" not in skip:
            r = report["live"] = live(media, tmp)
            print(f"live, 640x480, batch 1: {r['frames']} frames, latency mean {r['latency_ms_mean']:.1f} ms, "
                  f"p95 {r['latency_ms_p95']:.1f} ms (goal p95 <= 30 ms)", flush=True)
        if "memory" not in skip and args.minutes > 0:
            r = report["memory"] = memory(media, tmp, args.minutes)
            print(f"memory, {r['minutes']:g}-minute video ({r['frames']} frames), every output: "
                  f"{r['frames_per_s']:.1f} frames/s; peak RSS {r['peak_rss_mb_process']} MB "
                  f"(with ffmpeg {r['peak_rss_mb_with_ffmpeg']} MB); median RSS second third "
                  f"{r['median_rss_mb_second_third']:.0f} MB, last third {r['median_rss_mb_last_third']:.0f} MB "
                  "(goal peak <= 400 MB, flat)")
            print("  RSS samples (s, process MB, with ffmpeg MB): " + ", ".join(
                f"({t:g}, {a}, {b})" for t, a, b in r["samples_s_process_mb_tree_mb"][::max(1, len(
                    r["samples_s_process_mb_tree_mb"]) // 24)]), flush=True)
    report["load_average_end"] = os.getloadavg()
    print(f"load average at start {report['load_average_start']}, at end {report['load_average_end']} (2 cores)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
