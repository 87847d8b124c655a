"""How long `emotrace serve` takes to exit after SIGTERM (issue 17, item 11), in the states that matter: a job
running in a worker, a worker still loading its models (SIGTERM right after the first upload), and a live socket
streaming frames.

    python benchmarks/bench_shutdown.py [--repeat 3]

Prints seconds from SIGTERM to process exit for each case, and whether the shutdown was clean."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import httpx
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import astronaut_frames, write_video  # noqa: E402
from tests.web.server import Server  # noqa: E402  (the same real-process harness the tests use)


def _stream(url: str, frames: list[bytes], stop: threading.Event) -> None:
    try:
        with connect(url) as ws:
            ws.recv()
            i = 0
            while not stop.is_set():
                ws.send(frames[i % len(frames)])
                ws.recv()
                i += 1
    except Exception:  # the server closing the socket is the point
        pass


def once(root: Path, clip: Path, case: str) -> tuple[float, bool]:
    srv = Server(Path(tempfile.mkdtemp(dir=root)) / "data")
    if case == "live socket streaming":
        frames = [cv2.imencode(".jpg", f)[1].tobytes() for f in astronaut_frames(10, size=(640, 480))]
        stop = threading.Event()
        streamer = threading.Thread(target=_stream, args=(srv.ws_url, frames, stop))
        streamer.start()
        time.sleep(4)
        t = time.monotonic()
        clean = srv.stop()
        took = time.monotonic() - t
        stop.set()
        streamer.join()
        return took, clean
    with httpx.Client(base_url=srv.url, timeout=60) as c:
        job = c.post("/api/v1/jobs", files={"file": ("long.mp4", clip.read_bytes())}).json()["id"]
        if case == "job running":
            while c.get(f"/api/v1/jobs/{job}").json()["progress"]["frames_done"] < 10:
                time.sleep(0.1)
    t = time.monotonic()
    clean = srv.stop()
    return time.monotonic() - t, clean


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp())
    clip = write_video(root / "long.mp4", astronaut_frames(40) * 15, fps=25,
                       codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    for case in ("job running", "worker starting", "live socket streaming"):
        runs = [once(root, clip, case) for _ in range(args.repeat)]
        secs = [s for s, _ in runs]
        print(f"{case}: exit after SIGTERM median {statistics.median(secs):.2f} s, max {max(secs):.2f} s "
              f"({args.repeat} runs), clean {sum(c for _, c in runs)}/{args.repeat}")


if __name__ == "__main__":
    main()
