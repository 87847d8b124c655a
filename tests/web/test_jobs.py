"""The job manager's shutdown: bounded whatever the workers are doing (issue 17, item 11)."""

from __future__ import annotations

import threading
import time

from emotrace.web import jobs
from emotrace.web.jobs import JobManager
from emotrace.web.settings import ServerSettings
from emotrace.web.store import Job, JobStore


def test_stop_kills_a_worker_that_is_still_starting(tmp_path, monkeypatch):
    # A worker that never reports ready (like one importing torch on a loaded machine): stop() must not wait for
    # READY_TIMEOUT_S (180 s) but kill it and put the job back in the queue.
    monkeypatch.setattr(jobs, "WORKER_COMMAND", ["-c", "import time; time.sleep(600)"])
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.add(Job(id="a" * 32, status="queued", filename="x.mp4", kind="video", media="MP4", input="input.mp4",
                  size=1, created=time.time()), 4)
    manager = JobManager(store, ServerSettings(data_dir=tmp_path))
    manager.start()
    end = time.monotonic() + 120
    while not manager._starting and time.monotonic() < end:
        time.sleep(0.05)
    starting = list(manager._starting)
    assert starting, "the worker never started"
    stopper = threading.Thread(target=manager.stop)
    stopper.start()
    stopper.join(timeout=60)  # a hang guard: before the fix this waited 180 s for the worker, then 30 s per thread
    assert not stopper.is_alive()
    assert starting[0].proc.poll() is not None  # killed
    assert store.get("a" * 32).status == "queued"  # for the next start, not failed
    assert not any(t.is_alive() for t in manager._threads)
