"""Which Python allocations grow during a long run: `tracemalloc` snapshots at chosen frames of a run with every
output on WolfgangLanger_Pexels.mp4 looped to --minutes, and the allocation sites that grew most between the second
mark and the end (docs/benchmarks.md "Speed (issue 16)": how the table outputs' held rows were found).

    python benchmarks/memory_probe.py [--minutes 4] [--marks 600,1500,3000] [--top 12]

Slow (tracemalloc keeps a traceback per allocation): several times the plain run's time. Resident memory here is
inflated by tracemalloc itself; `bench_speed.py` measures the real curve.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def main() -> None:
    import imageio_ffmpeg

    from emotrace.api import build_sinks, run
    from emotrace.pipeline import Analyzer
    from emotrace.sinks.base import Sink

    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--marks", default="600,1500,3000", help="frames at which to take a snapshot")
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    marks = sorted(int(m) for m in args.marks.split(","))

    class Probe(Sink):
        """A sink that only takes snapshots."""

        def __init__(self) -> None:
            self.n = 0
            self.snaps: dict[Any, tracemalloc.Snapshot] = {}

        def open(self, meta: Any) -> None:
            pass

        def write(self, result: Any) -> None:
            self.n += 1
            if self.n in marks:
                self._snap(self.n)

        def _snap(self, key: Any) -> None:
            self.snaps[key] = tracemalloc.take_snapshot()
            print(f"frame {self.n}: RSS {rss_mb()} MB, traced {tracemalloc.get_traced_memory()[0] // 1024} KB",
                  flush=True)

        def close(self) -> list[Path]:
            self._snap("end")
            return []

        def abort(self) -> None:
            pass

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        video = tmp / "long.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-stream_loop", "-1", "-i",
                        str(Path(args.shared) / "media" / "WolfgangLanger_Pexels.mp4"), "-t",
                        str(args.minutes * 60), "-c", "copy", str(video)], check=True)
        tracemalloc.start(12)
        probe = Probe()
        run(str(video), Analyzer(), build_sinks(tmp / "out", ["csv", "parquet", "jsonl", "video", "timeline",
                                                              "summary"]) + [probe])
    base = probe.snaps.get(marks[1] if len(marks) > 1 else marks[0])
    if base is None:
        raise SystemExit(f"the video ended before frame {marks[1]}: lower --marks or raise --minutes")
    for stat in probe.snaps["end"].compare_to(base, "traceback")[:args.top]:
        print(stat)
        for line in stat.traceback.format()[-8:]:
            print("   ", line)


if __name__ == "__main__":
    main()
