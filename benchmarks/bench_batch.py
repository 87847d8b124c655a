"""`emotrace batch` at scale, as ratios measured in one run.

    python benchmarks/bench_batch.py [--shared ../shared] [--items 40] [--photos 1000] [--repeat 1]
                                     [--out benchmarks/results/batch]

1. Throughput: the same `--items` video clips analysed one after another in one process (one Analyzer, loaded
   once; the same per-item outputs) against `batch --workers 2` (local engine) and `batch --engine ray --workers 2`
   on a Ray started beforehand (as a cluster would be; its start-up time is printed apart).
   Goals: local >= 1.7x sequential; Ray within 15% of local.
2. A folder of `--photos` 640-px photos with one face each, `batch --workers 2`: photos/s (goal >= 40), and each
   worker's resident memory over the items (median of its first 100 items against its last 100: flat is ~1.0).
3. A finished 100-item batch (the clips and photos), run again: time as a share of the first run (goal < 5%).
Every timing includes start-up (worker processes loading the models); load average is printed, since other
processes on the machine change the figures. `--repeat N` alternates the three throughput runs N times and
reports the median of each ratio, so that a burst of other work on the machine does not land on one side only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np

import emotrace
from emotrace.analyzer_config import AnalyzerConfig
from emotrace.api import run
from emotrace.batch import BatchOptions, run_batch
from emotrace.outputs import build_sinks
from emotrace.pipeline import Analyzer
from emotrace.provenance import provenance
from emotrace.sample import astronaut_bgr

OUTPUTS = ("csv", "summary")


def make_clips(media: Path, n: int, folder: Path, seconds: float = 3.0) -> list[Path]:
    """`n` clips of `seconds` cut from the real videos of ../shared/media (re-encoded H.264), at varied offsets."""
    import imageio_ffmpeg

    from emotrace.sources import open_source

    folder.mkdir(parents=True, exist_ok=True)
    sources = [media / m for m in ("WolfgangLanger_Pexels.mp4", "short_hamilton_clip.mp4", "single_face.mp4",
                                   "noface_face.mov", "face_noface.mov")]
    lengths = []
    for s in sources:
        src = open_source(str(s))
        lengths.append((src.frame_count or 1) / (src.fps or 25))
        src.close()
    out = []
    for i in range(n):
        k = i % len(sources)
        start = (i // len(sources)) * 0.7 % max(0.1, lengths[k] - seconds)
        p = folder / f"clip{i:03d}.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-ss", f"{start:.2f}", "-i",
                        str(sources[k]), "-t", str(seconds), "-an", "-c:v", "libx264", "-preset", "ultrafast",
                        "-pix_fmt", "yuv420p", str(p)], check=True)
        out.append(p)
    return out


def make_photos(n: int, folder: Path, seed: int = 0) -> list[Path]:
    """`n` 640x480 JPEGs with one face each: the public-domain astronaut photo, shifted, scaled, flipped, relit."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    img = astronaut_bgr()
    out = []
    for i in range(n):
        s = int(rng.integers(260, 420))
        x0, y0 = int(rng.integers(60, 160)), int(rng.integers(0, 40))
        crop = img[y0:y0 + s, x0:x0 + s]
        face = cv2.resize(crop, (int(rng.integers(240, 400)),) * 2)
        canvas = np.full((480, 640, 3), int(rng.integers(20, 230)), np.uint8)
        fx, fy = int(rng.integers(0, 640 - face.shape[1])), int(rng.integers(0, 480 - face.shape[0]))
        canvas[fy:fy + face.shape[0], fx:fx + face.shape[1]] = face
        if rng.random() < 0.5:
            canvas = canvas[:, ::-1]
        canvas = np.clip(canvas.astype(np.float32) * rng.uniform(0.7, 1.2), 0, 255).astype(np.uint8)
        p = folder / f"photo{i:04d}.jpg"
        cv2.imwrite(str(p), canvas, [cv2.IMWRITE_JPEG_QUALITY, 90])
        out.append(p)
    return out


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def batch(inputs: list[Path], out: Path, **kw) -> object:
    return run_batch(BatchOptions(inputs=[str(p) for p in inputs], out=str(out), outputs=OUTPUTS, progress=False,
                                  **kw), AnalyzerConfig())


def sequential(clips: list[Path], out: Path) -> None:
    an = Analyzer()
    for c in clips:
        run(str(c), an, build_sinks(out / c.stem, OUTPUTS))


def memory_flatness(out: Path) -> dict[str, dict[str, float]]:
    """Per worker: median RSS of its first 100 items, of its last 100, and their ratio."""
    recs = [json.loads(p.read_text()) for p in (out / "items").glob("*/item.json")]
    by_worker: dict[str, list[tuple[str, float]]] = {}
    for r in recs:
        if r.get("worker_rss_mb"):
            by_worker.setdefault(r["worker"], []).append((r["finished_utc"], r["worker_rss_mb"], r["started_utc"]))
    res = {}
    for w, xs in by_worker.items():
        xs.sort(key=lambda x: (x[0], x[2]))
        first = statistics.median(x[1] for x in xs[:100])
        last = statistics.median(x[1] for x in xs[-100:])
        res[w] = {"items": len(xs), "first100_mb": first, "last100_mb": last, "ratio": round(last / first, 3)}
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--photos", type=int, default=1000)
    ap.add_argument("--out", default="benchmarks/results/batch")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="alternate the throughput runs N times (median ratio)")
    args = ap.parse_args()
    work = Path(args.out)
    shutil.rmtree(work / "tmp", ignore_errors=True)
    tmp = work / "tmp"
    report: dict[str, object] = {"provenance": provenance(vars(args)), "cpus": os.cpu_count(),
                                 "loadavg_start": os.getloadavg()}
    print(f"emotrace {emotrace.__version__}, commit {report['provenance']['commit']}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    clips = make_clips(Path(args.shared) / "media", args.items, tmp / "clips")
    photos = make_photos(args.photos, tmp / "photos")

    runs = []
    for rep in range(args.repeat):
        shutil.rmtree(tmp / "seq", ignore_errors=True)
        shutil.rmtree(tmp / "local", ignore_errors=True)
        shutil.rmtree(tmp / "ray", ignore_errors=True)
        run_ = {"loadavg": os.getloadavg()[0]}
        run_["sequential_s"], _ = timed(lambda: sequential(clips, tmp / "seq"))
        run_["local2_s"], r_local = timed(lambda: batch([tmp / "clips"], tmp / "local", workers=2))
        frames = r_local.frames
        t_seq, t_local = run_["sequential_s"], run_["local2_s"]
        print(f"\n[{rep + 1}/{args.repeat}, load {run_['loadavg']:.2f}] {len(clips)} clips, {frames} frames: one "
              f"process one after another {t_seq:.1f} s ({frames / t_seq:.1f} frames/s); local engine, 2 workers "
              f"{t_local:.1f} s ({frames / t_local:.1f} frames/s): {t_seq / t_local:.2f}x (goal >= 1.7x)")
        if not args.no_ray:
            import ray

            run_["ray_init_s"], _ = timed(lambda: ray.init(num_cpus=2, include_dashboard=False,
                                                           logging_level="WARNING"))
            run_["ray2_s"], _ = timed(lambda: batch([tmp / "clips"], tmp / "ray", engine="ray", workers=2))
            ray.shutdown()
            print(f"Ray engine, 2 workers: {run_['ray2_s']:.1f} s (+ {run_['ray_init_s']:.1f} s to start Ray): "
                  f"{run_['ray2_s'] / t_local:.2f}x the local engine's time (goal <= 1.15x)")
        runs.append(run_)
    med = {"local2_vs_sequential": statistics.median(r["sequential_s"] / r["local2_s"] for r in runs)}
    if not args.no_ray:
        med["ray_vs_local"] = statistics.median(r["ray2_s"] / r["local2_s"] for r in runs)
    report["throughput"] = {"items": len(clips), "frames": frames, "runs": runs, "median": med}
    print(f"median over {len(runs)} run(s): local 2 workers {med['local2_vs_sequential']:.2f}x sequential"
          + (f"; Ray {med['ray_vs_local']:.2f}x local's time" if "ray_vs_local" in med else ""))

    t_ph, r_ph = timed(lambda: batch([tmp / "photos"], tmp / "photos_out", workers=2))
    mem = memory_flatness(tmp / "photos_out")
    report["photos"] = {"photos": len(photos), "done": r_ph.done, "seconds": round(t_ph, 2),
                        "photos_per_s": round(len(photos) / t_ph, 2), "memory": mem}
    print(f"\n{len(photos)} photos (640x480, one face): {t_ph:.1f} s, {len(photos) / t_ph:.1f} photos/s with 2 "
          f"workers (goal >= 40)")
    for w, m in mem.items():
        print(f"  worker {w}: {m['items']} items, RSS median first 100 {m['first100_mb']:.0f} MB, last 100 "
              f"{m['last100_mb']:.0f} MB: {m['ratio']:.3f}x")

    hundred = [tmp / "clips"] + photos[:100 - len(clips)]
    t_first, r1 = timed(lambda: batch(hundred, tmp / "hundred", workers=2))
    t_again, r2 = timed(lambda: batch(hundred, tmp / "hundred", workers=2))
    report["rerun"] = {"items": r1.items, "first_s": round(t_first, 2), "rerun_s": round(t_again, 3),
                       "rerun_share": round(t_again / t_first, 4), "rerun_skipped": r2.skipped}
    print(f"\n{r1.items}-item batch: first run {t_first:.1f} s, rerun {t_again:.2f} s ({r2.skipped} skipped): "
          f"{100 * t_again / t_first:.1f}% of the first run (goal < 5%)")
    report["loadavg_end"] = os.getloadavg()
    work.mkdir(parents=True, exist_ok=True)
    (work / "bench_batch.json").write_text(json.dumps(report, indent=1, default=str))
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nwrote {work / 'bench_batch.json'}")


if __name__ == "__main__":
    main()
