"""A real `emotrace serve` process for the web tests: started on a free loopback port, stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.helpers import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m emotrace.cli serve` with the given options; `url` once it answers /api/v1/health."""

    def __init__(self, data_dir: Path, *args: str, log: Path | None = None, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()  # a given port: a restart at the same address
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/v1/live"
        self.log_path = log or data_dir.with_name(data_dir.name + "-server.log")
        self._log = open(self.log_path, "w")
        cmd = [sys.executable, "-m", "emotrace.cli", "serve", "--port", str(self.port), "--data-dir", str(data_dir),
               *args]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._wait_up()

    def _wait_up(self, limit_s: float = 300.0) -> None:
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=2) as r:
                    json.load(r)
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not answer within the start limit")

    def stop(self) -> bool:
        """SIGTERM, as a service manager would; True when the server shut down cleanly. The server bounds its own
        shutdown (connections get 4 s, then workers are killed); the wait here only guards against a hang on a
        slow, busy machine."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=180)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self.returncode = self.proc.returncode
        # uvicorn re-raises the signal it caught once shutdown is complete, so the exit status is -SIGTERM.
        return self.proc.returncode in (0, -signal.SIGTERM) and "Application shutdown complete" in self.log()

    def log(self) -> str:
        return f"[exit status {self.proc.returncode}]\n" + self.log_path.read_text()


def wait_job(client, job_id: str, limit_s: float = 300.0) -> dict:
    """Poll a job until it is done or failed (the limit only guards against a hang)."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after {limit_s} s")
