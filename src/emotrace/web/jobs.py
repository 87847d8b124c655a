"""The job queue: `max_jobs` threads, each driving one long-lived worker process (emotrace.web.worker).

The SQLite store is the queue itself (a job is a row with status 'queued'), so the bound is checked in the same
transaction that adds a job, and a restart finds every waiting job where it was left.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from emotrace.analyzer_config import AnalyzerConfig
from emotrace.web.config import config_json, job_config
from emotrace.web.settings import ServerSettings
from emotrace.web.store import Job, JobStore

log = logging.getLogger("emotrace")

READY_TIMEOUT_S = 180.0  # first start imports torch, OpenCV and MediaPipe
WORKER_COMMAND = ["-m", "emotrace.web.worker"]  # after the interpreter; `config_json` of the analyzer follows
STOP_JOIN_S = 3.0  # how long stop() waits for the job threads once every worker is killed
PROGRESS_WRITE_EVERY_S = 0.5


def _die_with_parent() -> None:
    """Linux: the worker gets SIGTERM when the server process dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class WorkerProcess:
    """One `python -m emotrace.web.worker` child and a thread turning its stdout lines into events."""

    def __init__(self, analyzer: AnalyzerConfig | dict[str, Any]) -> None:
        # Its own process group, which its FFmpeg encoders join (imageio-ffmpeg would give each a group of its
        # own), so kill() stops them with it: an encoder left alone reads a cut frame and logs "[rawvideo]
        # Invalid buffer size". The server stops workers itself; a terminal's Ctrl-C is not theirs.
        self.proc = subprocess.Popen(
            [sys.executable, *WORKER_COMMAND, config_json(analyzer)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, text=True, bufsize=1,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            start_new_session=os.name == "posix", env={**os.environ, "IMAGEIO_FFMPEG_NO_PREVENT_SIGINT": "1"})
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            for line in self.proc.stdout:
                try:
                    self.events.put(json.loads(line))
                except json.JSONDecodeError:
                    log.warning("worker: unreadable line %r", line[:200])
        except (OSError, ValueError):  # the pipe was closed by kill()
            pass
        self.events.put(None)  # end of stream: the process ended

    def wait_ready(self, timeout: float, stop: threading.Event | None = None) -> str | None:
        """None when ready, else why not; gives up at once when `stop` is set (the server is shutting down)."""
        end = time.monotonic() + timeout
        while True:
            if stop is not None and stop.is_set():
                return "the server is shutting down"
            left = end - time.monotonic()
            if left <= 0:
                return f"worker did not start within {timeout:g} s"
            try:
                ev = self.events.get(timeout=min(left, 0.25))
                break
            except queue.Empty:
                continue
        if ev is None:
            return f"worker process ended at start (exit code {self.proc.wait()})"
        if ev.get("event") != "ready":
            return str(ev.get("message", ev))
        return None

    def send(self, job: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """The worker and its process group (its encoders), at once."""
        if os.name == "posix":
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):  # the group is gone already
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass


class JobManager:
    """Accepts jobs into the bounded queue and runs them, at most `max_jobs` at once, each under a timeout."""

    def __init__(self, store: JobStore, settings: ServerSettings) -> None:
        self.store = store
        self.settings = settings
        self.jobs_dir = Path(settings.data_dir) / "jobs"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[str, WorkerProcess] = {}  # job id -> the worker running it
        self._starting: set[WorkerProcess] = set()  # workers still loading their models
        self._cancelled: set[str] = set()  # deleted while a thread held them
        self._claimed: set[str] = set()  # held by a job thread, from claim to the end of the run
        self._threads: list[threading.Thread] = []

    def job_dir(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> None:
        n = self.store.requeue_interrupted()
        if n:
            log.info("requeued %d job(s) interrupted by the last shutdown", n)
        for i in range(max(1, self.settings.max_jobs)):
            t = threading.Thread(target=self._loop, name=f"emotrace-job-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        """Stop every worker, running or still starting, at once; running jobs go back to the queue for the next
        start. Bounded whatever the workers are doing: a killed worker cannot delay it."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        with self._lock:
            workers = [*self._running.values(), *self._starting]
        for w in workers:
            w.kill()
        end = time.monotonic() + STOP_JOIN_S
        for t in self._threads:
            t.join(timeout=max(0.0, end - time.monotonic()))
        self.store.requeue_interrupted()

    def notify(self) -> None:
        """A job was added: wake an idle thread."""
        with self._wake:
            self._wake.notify()

    def delete(self, job_id: str) -> bool:
        """Remove a job in any state: a running one is stopped first. False when there is no such job.

        The row goes in the same critical section that checks whether a thread holds the job, so a job claimed
        at that moment is either seen here (marked cancelled: its thread cleans up) or finds its row gone."""
        with self._lock:
            worker = self._running.get(job_id)
            if job_id in self._claimed:
                self._cancelled.add(job_id)
            existed = self.store.delete(job_id)
        if worker is not None:
            worker.kill()
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
        return existed

    # -- the worker threads -------------------------------------------------------------------------------------
    def _loop(self) -> None:
        worker: WorkerProcess | None = None
        try:
            while not self._stop.is_set():
                job = self.store.claim_next()
                if job is None:
                    with self._wake:
                        self._wake.wait(timeout=1.0)
                    continue
                worker = self._run(job, worker)
        finally:
            if worker is not None:
                worker.kill()

    def _spawn(self) -> tuple[WorkerProcess | None, str | None]:
        worker = WorkerProcess(self.settings.analyzer)
        with self._lock:
            self._starting.add(worker)
        try:
            problem = worker.wait_ready(READY_TIMEOUT_S, self._stop)
        finally:
            with self._lock:
                self._starting.discard(worker)
        if problem is not None:
            worker.kill()
            return None, problem
        return worker, None

    def _fail(self, job: Job, message: str) -> None:
        self.store.update(job.id, status="failed", finished=time.time(), error=message)

    def _run(self, job: Job, worker: WorkerProcess | None) -> WorkerProcess | None:
        """Run one claimed job; returns the worker to reuse (None when it had to be stopped)."""
        with self._lock:
            self._claimed.add(job.id)
            gone = self.store.get(job.id) is None  # deleted between the claim and now
        try:
            if gone:
                return worker
            return self._start(job, worker)
        finally:
            with self._lock:
                self._running.pop(job.id, None)
                self._claimed.discard(job.id)
                cancelled = gone or job.id in self._cancelled
                self._cancelled.discard(job.id)
            if cancelled:  # deleted while this thread held it: nothing of it may stay behind
                shutil.rmtree(self.job_dir(job.id), ignore_errors=True)

    def _start(self, job: Job, worker: WorkerProcess | None) -> WorkerProcess | None:
        if worker is None or not worker.alive():
            worker, problem = self._spawn()
            if worker is None:
                if not self._stop.is_set():  # on shutdown the job stays queued for the next start
                    self._fail(job, problem or "worker could not start")
                return None
        out = self.job_dir(job.id) / "out"
        with self._lock:  # a delete either came before (skip) or will find the worker registered (kill)
            if job.id in self._cancelled:
                return worker
            shutil.rmtree(out, ignore_errors=True)
            try:
                out.mkdir(parents=True)
            except OSError as exc:
                self._fail(job, f"cannot create the job folder: {exc.strerror}")
                return worker
            self._running[job.id] = worker
        return self._drive(job, worker, out)

    def _drive(self, job: Job, worker: WorkerProcess, out: Path) -> WorkerProcess | None:
        worker.send({"input": str(self.job_dir(job.id) / job.input), "out": str(out), "name": job.filename,
                     "config": config_json(job_config(self.settings.analyzer, job.signals))})
        deadline = time.monotonic() + self.settings.job_timeout_s
        last_write = 0.0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                worker.kill()
                self._fail(job, f"timed out after {self.settings.job_timeout_s:g} s")
                return None
            try:
                ev = worker.events.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if self._stop.is_set() or job.id in self._cancelled:
                return None  # stopped or deleted: the worker was killed, the row is requeued or gone
            if ev is None:
                code = worker.proc.wait()
                self._fail(job, f"the analysis process ended unexpectedly (exit code {code})")
                return None
            kind = ev.get("event")
            if kind == "start":
                self.store.update(job.id, frames_total=ev.get("total"))
            elif kind == "progress" and time.monotonic() - last_write >= PROGRESS_WRITE_EVERY_S:
                last_write = time.monotonic()
                self.store.update(job.id, frames_done=int(ev["frames"]))
            elif kind == "done":
                self.store.update(job.id, status="done", finished=time.time(), frames_done=int(ev["frames"]),
                                  outputs=list(ev["outputs"]), warnings=[str(w) for w in ev.get("warnings", [])])
                return worker
            elif kind == "error":
                shutil.rmtree(out, ignore_errors=True)
                self._fail(job, str(ev.get("message", "analysis failed")))
                return worker
