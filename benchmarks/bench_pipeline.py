"""Speed and memory of the pipeline, as ratios measured in one run.

    python benchmarks/bench_pipeline.py [--shared ../shared] [--minutes 30] [--out benchmarks/results]

For each clip: frames/s for decode only, decode + detection on every frame, and the full pipeline (decode, detect,
track, align, frame model, temporal stage) with and without writing every output; each as a ratio to decode only.
Then the peak memory (max RSS) of `emotrace analyze` with every output on a long video built by looping a clip.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import emotrace
from emotrace.api import build_sinks, run
from emotrace.faces.detectors import create_detector
from emotrace.pipeline import Analyzer
from emotrace.provenance import provenance
from emotrace.sources import open_source


def fps(fn, frames: int) -> float:
    t = time.perf_counter()
    fn()
    return frames / (time.perf_counter() - t)


def bench_clip(path: Path, tmp: Path) -> dict[str, float]:
    n = sum(1 for _ in open_source(str(path)))
    res = {"frames": n}
    res["decode"] = fps(lambda: [None for _ in open_source(str(path))], n)
    det = create_detector("auto", min_score=0.7)
    res["decode+detect(every frame)"] = fps(lambda: [det.detect(f.image) for f in open_source(str(path))], n)
    an = Analyzer()
    run(str(path), an)  # warm-up: first inference allocates
    res["full pipeline"] = fps(lambda: run(str(path), an), n)
    res["full pipeline + all outputs"] = fps(
        lambda: run(str(path), an, build_sinks(tmp / path.stem, ["csv", "parquet", "jsonl", "video", "timeline",
                                                                "summary"])), n)
    an1 = Analyzer(detect_every=1)
    res["full pipeline, detect every frame"] = fps(lambda: run(str(path), an1), n)
    return res


def long_video(clip: Path, minutes: float, out: Path) -> Path:
    import imageio_ffmpeg

    info = open_source(str(clip))
    seconds = (info.frame_count or 1) / (info.fps or 25)
    loops = int(minutes * 60 / seconds) + 1
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-stream_loop", str(loops - 1),
                    "-i", str(clip), "-t", str(minutes * 60), "-c", "copy", str(out)], check=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    media = Path(args.shared) / "media"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "tmp"
    tmp.mkdir(exist_ok=True)
    report = {"provenance": provenance(vars(args)), "clips": {}}
    print(f"emotrace {emotrace.__version__}, commit {report['provenance']['commit']}")
    for name in ["WolfgangLanger_Pexels.mp4", "short_hamilton_clip.mp4"]:
        r = bench_clip(media / name, tmp)
        report["clips"][name] = r
        print(f"\n{name} ({r['frames']} frames)")
        for k, v in r.items():
            if k != "frames":
                print(f"  {k:36s} {v:8.1f} frames/s   ratio to decode {v / r['decode']:.3f}")
    if args.minutes > 0:
        video = long_video(media / "WolfgangLanger_Pexels.mp4", args.minutes, tmp / "long.mp4")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "emotrace.cli", "-q", "analyze", str(video), "-o", str(tmp / "long")],
                       check=True)
        secs = time.perf_counter() - t
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        frames = json.loads((tmp / "long" / "summary.json").read_text())["frames"]
        report["long_video"] = {"minutes": args.minutes, "frames": frames, "seconds": secs,
                                "frames_per_s": frames / secs, "peak_rss_mb": peak_mb}
        print(f"\n{args.minutes:g}-minute video ({frames} frames), all outputs: {frames / secs:.1f} frames/s, "
              f"peak memory {peak_mb:.0f} MB")
    (out / "bench_pipeline.json").write_text(json.dumps(report, indent=2))
    print(f"\nwrote {out / 'bench_pipeline.json'}")


if __name__ == "__main__":
    main()
