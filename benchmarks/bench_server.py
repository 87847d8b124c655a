"""Load on `emotrace serve` over loopback: live updates/s and latency, concurrent jobs, refusals past the limits.

    python benchmarks/bench_server.py [--shared ../shared] [--seconds 20] [--uploads 6] [--sockets 2]
                                      [--out benchmarks/results]

Starts a real server (one job at a time, a queue of 3, `--sockets` live sessions) in a temporary data folder, then
1. live alone: one socket sends 640x480 JPEG frames of WolfgangLanger_Pexels.mp4 (one face) for `--seconds`,
   first one frame in flight (send, wait for the answer), then two in flight (as the browser page does);
2. mixed load: `--uploads` uploads of single_face.mp4 at once, plus `--sockets` + 1 sockets (the last one must be
   refused) streaming for `--seconds` while the jobs run; every accepted job must finish and every frame sent must
   be answered.
Latency is from sending a frame to receiving its answer (client side, loopback). Results: printed, and written to
`bench_server.json` in `--out`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import httpx
import numpy as np
from websockets.sync.client import connect

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.web.server import Server  # noqa: E402  (the same real-process harness the tests use)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def frames_640x480(clip: Path, n: int = 300) -> list[bytes]:
    from emotrace.sources import open_source

    out = []
    for f, _ in zip(open_source(str(clip)), range(n), strict=False):
        out.append(cv2.imencode(".jpg", cv2.resize(f.image, (640, 480)), [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return out


def stream(url: str, frames: list[bytes], seconds: float, in_flight: int = 1) -> dict:
    """Send frames (cycling) for `seconds` with at most `in_flight` unanswered; per-frame latency in ms."""
    lat: list[float] = []
    server_ms: list[float] = []
    sent = answered = with_face = 0
    with connect(url, max_size=None) as ws:
        hello = json.loads(ws.recv())
        if hello["type"] != "ready":
            return {"refused": True, "status": hello.get("status"), "detail": hello.get("detail"),
                    "close_code": None}
        pending: deque[float] = deque()
        t0 = time.perf_counter()
        while True:
            now = time.perf_counter()
            if now - t0 < seconds:
                while len(pending) < in_flight:
                    ws.send(frames[sent % len(frames)])
                    pending.append(time.perf_counter())
                    sent += 1
            elif not pending:
                break
            msg = json.loads(ws.recv())
            lat.append((time.perf_counter() - pending.popleft()) * 1000)
            answered += 1
            if msg.get("type") == "result":
                server_ms.append(msg["server_ms"])
                with_face += bool(msg["faces"])
        elapsed = time.perf_counter() - t0
    a = np.array(lat)
    return {"refused": False, "in_flight": in_flight, "sent": sent, "answered": answered, "lost": sent - answered,
            "frames_with_face": with_face, "seconds": round(elapsed, 2), "updates_per_s": round(answered / elapsed, 1),
            "latency_ms_p50": round(float(np.percentile(a, 50)), 1),
            "latency_ms_p95": round(float(np.percentile(a, 95)), 1),
            "latency_ms_p99": round(float(np.percentile(a, 99)), 1),
            "server_ms_p50": round(float(np.median(server_ms)), 1) if server_ms else None}


def refused_socket(url: str) -> dict:
    with connect(url) as ws:
        msg = json.loads(ws.recv())
        try:
            ws.recv()
        except Exception:
            pass
        return {"refused": msg.get("type") == "error", "status": msg.get("status"), "close_code": ws.close_code}


def mixed(srv: Server, frames: list[bytes], video: Path, uploads: int, sockets: int, seconds: float) -> dict:
    data = video.read_bytes()
    with httpx.Client(base_url=srv.url, timeout=300) as client:
        t_submit = time.time()
        with ThreadPoolExecutor(uploads) as pool:
            answers = list(pool.map(lambda i: client.post("/api/v1/jobs", files={"file": (f"u{i}.mp4", data)}),
                                    range(uploads)))
        accepted = [a.json()["id"] for a in answers if a.status_code == 202]
        refused = {str(a.status_code): 0 for a in answers if a.status_code != 202}
        for a in answers:
            if a.status_code != 202:
                refused[str(a.status_code)] += 1
        # The sessions: `sockets` stream, then one more is opened while they hold their places.
        results: list[dict] = [{}] * sockets
        threads = []
        for i in range(sockets):
            def run(i: int = i) -> None:
                results[i] = stream(srv.ws_url, frames, seconds)
            t = threading.Thread(target=run)
            t.start()
            threads.append(t)
        time.sleep(2.0)  # let them take their places
        extra = refused_socket(srv.ws_url)
        for t in threads:
            t.join()
        jobs = []
        for job_id in accepted:
            while True:
                job = client.get(f"/api/v1/jobs/{job_id}").json()
                if job["status"] in ("done", "failed"):
                    break
                time.sleep(0.5)
            jobs.append(job)
    done = [j for j in jobs if j["status"] == "done"]
    return {
        "uploads": uploads, "accepted": len(accepted), "refused": refused, "jobs_done": len(done),
        "jobs_failed": len(jobs) - len(done),
        "job_run_s": [round(j["finished"] - j["started"], 2) for j in done],
        "job_turnaround_s": [round(j["finished"] - t_submit, 2) for j in done],
        "frames_per_job": [j["progress"]["frames_done"] for j in done],
        "sockets": results, "extra_socket": extra,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(REPO.parent / "shared"))
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--uploads", type=int, default=6)
    p.add_argument("--sockets", type=int, default=2)
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = p.parse_args()
    media = Path(args.shared) / "media"
    frames = frames_640x480(media / "WolfgangLanger_Pexels.mp4")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp) / "data", "--max-jobs", "1", "--max-queue", "3", "--max-sockets",
                     str(args.sockets))
        try:
            time.sleep(3.0)  # the server warms one live analyzer in the background at start
            alone = [stream(srv.ws_url, frames, args.seconds, in_flight=k) for k in (1, 2)]
            load = mixed(srv, frames, media / "single_face.mp4", args.uploads, args.sockets, args.seconds)
        finally:
            clean = srv.stop()
    report = {"command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]), "commit": commit,
              "machine": f"{platform.machine()}, {cpu_model()}, {len(os.sched_getaffinity(0))} CPUs",
              "python": platform.python_version(), "live_alone": alone, "mixed": load, "clean_shutdown": clean}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_server.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
