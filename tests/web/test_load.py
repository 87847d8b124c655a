"""A bounded load test on loopback: concurrent uploads and live sockets against one server with small limits.

Every accepted job must finish, every frame sent must be answered in order, and past the limits the server must
answer 503 (queue) and close code 1013 (sockets). Counts are small so the test stays within seconds of work.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import cv2
import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.helpers import astronaut_frames, write_video
from tests.web.server import Server, wait_job

UPLOADS = 8
QUEUE = 2
SOCKETS = 2
FRAMES = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("load") / "data", "--max-jobs", "1", "--max-queue", str(QUEUE),
                 "--max-sockets", str(SOCKETS))
    yield srv
    assert srv.stop(), srv.log()[:200] + srv.log()[-1500:]


def stream(url: str, frames: list[bytes]) -> list[dict]:
    with connect(url) as ws:
        assert json.loads(ws.recv())["type"] == "ready"
        out = []
        for f in frames:
            ws.send(f)
            out.append(json.loads(ws.recv()))
        return out


def test_concurrent_uploads_and_sockets_within_limits(server, tmp_path):
    clip = write_video(tmp_path / "c.mp4", astronaut_frames(12), fps=12, codec=["-c:v", "libx264", "-pix_fmt",
                                                                                 "yuv420p"]).read_bytes()
    frames = [cv2.imencode(".jpg", f)[1].tobytes() for f in astronaut_frames(FRAMES, size=(640, 480))]
    with httpx.Client(base_url=server.url, timeout=120) as client:
        # Uploads, all at once: the first is taken by the worker, QUEUE wait, the rest are refused.
        with ThreadPoolExecutor(UPLOADS) as pool:
            answers = list(pool.map(lambda i: client.post("/api/v1/jobs", files={"file": (f"c{i}.mp4", clip)}),
                                    range(UPLOADS)))
        accepted = [a.json()["id"] for a in answers if a.status_code == 202]
        refused = [a for a in answers if a.status_code != 202]
        assert all(a.status_code == 503 for a in refused)
        assert all("queue full" in a.json()["detail"] and a.headers["retry-after"] for a in refused)
        assert QUEUE <= len(accepted) <= QUEUE + 1 and len(accepted) + len(refused) == UPLOADS

        # Sockets while the jobs run: SOCKETS sessions are served, one more is refused with 1013.
        url = server.ws_url
        with ExitStack() as stack:
            held = [stack.enter_context(connect(url)) for _ in range(SOCKETS)]
            assert all(json.loads(ws.recv())["type"] == "ready" for ws in held)
            with connect(url) as extra:
                msg = json.loads(extra.recv())
                with pytest.raises(ConnectionClosed):
                    extra.recv()
            assert msg["type"] == "error" and msg["status"] == 503
            assert extra.close_code == 1013
        with ThreadPoolExecutor(SOCKETS) as pool:
            results = list(pool.map(lambda _: stream(url, frames), range(SOCKETS)))
        for replies in results:  # nothing lost, nothing out of order
            assert [r["seq"] for r in replies] == list(range(1, FRAMES + 1))
            assert all(r["type"] == "result" for r in replies)
            assert sum(1 for r in replies if r["faces"]) >= FRAMES - 2

        jobs = [wait_job(client, j) for j in accepted]
        assert [j["status"] for j in jobs] == ["done"] * len(accepted)
        assert all(j["progress"]["frames_done"] == 12 and "csv" in j["results"] for j in jobs)
        counts = client.get("/api/v1/health").json()["jobs"]
        assert counts["done"] == len(accepted) and counts["queued"] == counts["running"] == 0
        # The queue drained, so the server takes work again.
        again = client.post("/api/v1/jobs", files={"file": ("again.mp4", clip)})
        assert again.status_code == 202
        assert wait_job(client, again.json()["id"])["status"] == "done"
