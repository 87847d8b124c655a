"""The soak test (issue 17): 120 jobs through the API of a real server on loopback, random cancels, and one
server restart (SIGTERM) in the middle. Every job must end done, failed or cancelled (deleted), none stuck; every
result fetched before the restart must come back byte for byte after it; the server's and its worker's memory
must stay flat across the second half. Seeded; small media, so it runs in about a minute on 2 cores.
Figures: docs/benchmarks.md ("Soak").
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import cv2
import httpx
import pytest

from tests.helpers import astronaut_frames, write_video
from tests.web.server import Server

SEED = 17
JOBS = 120
CANCEL_P = 0.15
GUARD_S = 600.0  # a hang guard for the whole wait, not a timing check


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), in MiB."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def media(root: Path, rng: random.Random) -> list[tuple[str, bytes]]:
    """Small inputs of every kind a job meets: stills, short clips, a picture without a face, damaged files."""
    root.mkdir()
    frames = astronaut_frames(16, size=(160, 120))
    out = []
    for i in range(4):
        out.append((f"still{i}.jpg", cv2.imencode(".jpg", frames[4 * i])[1].tobytes()))
    for i, n in enumerate((4, 8)):
        clip = write_video(root / f"clip{i}.mp4", frames[:n], fps=8, codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        out.append((clip.name, clip.read_bytes()))
    out.append(("wall.png", cv2.imencode(".png", frames[0] * 0 + 90)[1].tobytes()))
    broken = bytearray(out[-2][1])
    broken[48:] = bytes(rng.randrange(256) for _ in range(len(broken) - 48))
    out.append(("broken.mp4", bytes(broken)))  # passes the content check, fails in the worker
    return out


def wait_all(client: httpx.Client, ids: list[str]) -> dict[str, dict]:
    end = time.monotonic() + GUARD_S
    while True:
        jobs = {j["id"]: j for j in client.get("/api/v1/jobs", params={"limit": 500}).json()}
        if all(jobs[i]["status"] in ("done", "failed") for i in ids):
            return jobs
        if time.monotonic() > end:
            stuck = [(i, jobs[i]["status"]) for i in ids if jobs[i]["status"] not in ("done", "failed")]
            raise AssertionError(f"{len(stuck)} job(s) stuck: {stuck[:5]}")
        time.sleep(0.25)


@pytest.mark.slow
def test_soak_with_cancels_and_a_restart(tmp_path):
    rng = random.Random(SEED)
    inputs = media(tmp_path / "media", rng)
    data = tmp_path / "data"
    submitted: list[str] = []
    cancelled: set[str] = set()
    kept: dict[str, bytes] = {}  # job id -> its CSV, fetched before the restart
    figures: dict[str, float] = {}
    t0 = time.monotonic()

    def submit_some(client: httpx.Client, n: int) -> None:
        for _ in range(n):
            name, body = rng.choice(inputs)
            resp = client.post("/api/v1/jobs", files={"file": (name, body)})
            assert resp.status_code == 202, resp.text
            submitted.append(resp.json()["id"])
            if rng.random() < CANCEL_P:  # cancel a random earlier job, whatever its state
                victim = rng.choice([j for j in submitted if j not in cancelled])
                assert client.delete(f"/api/v1/jobs/{victim}").status_code == 204
                cancelled.add(victim)
            time.sleep(rng.random() * 0.05)

    first = Server(data, "--max-queue", str(JOBS + 10))
    try:
        with httpx.Client(base_url=first.url, timeout=120) as c:
            submit_some(c, JOBS // 2)
            end = time.monotonic() + GUARD_S  # let some finish so the restart has results to keep
            while sum(j["status"] == "done" for j in c.get("/api/v1/jobs", params={"limit": 500}).json()) < 10:
                assert time.monotonic() < end, "no job finished before the restart"
                time.sleep(0.2)
            for j in c.get("/api/v1/jobs", params={"limit": 500}).json():
                if j["status"] == "done" and j["id"] not in cancelled:
                    kept[j["id"]] = c.get(j["results"]["csv"]).content
            figures["queued_or_running_at_restart"] = sum(
                j["status"] in ("queued", "running") for j in c.get("/api/v1/jobs", params={"limit": 500}).json())
    finally:
        assert first.stop(), first.log()[-3000:]  # SIGTERM mid-run
    second = Server(data, "--max-queue", str(JOBS + 10))
    try:
        with httpx.Client(base_url=second.url, timeout=120) as c:
            submit_some(c, JOBS // 4)
            live = [j for j in submitted if j not in cancelled]
            wait_all(c, live)
            mem_warm = rss_mb(second.proc.pid)  # the worker has run jobs since the restart: models loaded
            submit_some(c, JOBS - len(submitted))
            live = [j for j in submitted if j not in cancelled]
            jobs = wait_all(c, live)
            mem_end = rss_mb(second.proc.pid)
            for j in cancelled:
                assert c.get(f"/api/v1/jobs/{j}").status_code == 404
                assert not (data / "jobs" / j).exists()
            kept = {j: csv for j, csv in kept.items() if j not in cancelled}  # some were cancelled after it
            for j, csv in kept.items():
                assert jobs[j]["status"] == "done" and c.get(jobs[j]["results"]["csv"]).content == csv
            statuses = [jobs[j]["status"] for j in live]
            health = c.get("/api/v1/health").json()
    finally:
        assert second.stop(), second.log()[-3000:]
    assert len(submitted) == JOBS and health["jobs"]["queued"] == health["jobs"]["running"] == 0
    assert statuses.count("done") >= len(live) // 2  # most inputs are good media
    assert all(jobs[j]["error"] for j in live if jobs[j]["status"] == "failed")
    figures.update(jobs=len(submitted), done=statuses.count("done"), failed=statuses.count("failed"),
                   cancelled=len(cancelled), kept_across_restart=len(kept), rss_warm_mb=round(mem_warm, 1),
                   rss_end_mb=round(mem_end, 1), wall_s=round(time.monotonic() - t0, 1))
    print("soak:", figures)
    # Memory flat: the last 30 jobs may not grow the server and its worker by more than 15% (allocator noise).
    assert mem_end <= mem_warm * 1.15, figures
