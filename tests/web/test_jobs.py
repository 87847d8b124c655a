"""The job manager's shutdown: bounded whatever the workers are doing (issue 17, item 11); the config its workers
get."""

from __future__ import annotations

import json
import threading
import time

import pytest

from emotrace.analyzer_config import AnalyzerConfig
from emotrace.errors import EmotraceError
from emotrace.web import jobs
from emotrace.web.config import analyzer_config, config_from_json, config_json
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


def _job(tmp_path, manager, store, job_id: str) -> None:
    folder = manager.job_dir(job_id)
    folder.mkdir(parents=True)
    (folder / "input.mp4").write_bytes(b"\0" * 16)
    store.add(Job(id=job_id, status="queued", filename="x.mp4", kind="video", media="MP4", input="input.mp4",
                  size=16, created=time.time()), 4)


def _settle(manager, limit_s: float = 60.0) -> None:
    end = time.monotonic() + limit_s  # a hang guard
    while (manager._claimed or manager._running) and time.monotonic() < end:
        time.sleep(0.05)


def test_a_job_deleted_while_its_worker_starts_leaves_nothing(tmp_path, monkeypatch):
    # The worker becomes ready after a moment and logs every job it is sent; the deleted job must never reach it.
    sent = tmp_path / "sent.txt"
    script = ("import json, sys, time; time.sleep(1.0); print(json.dumps({'event': 'ready'}), flush=True)\n"
              f"for line in sys.stdin: open({str(sent)!r}, 'a').write(line)")
    monkeypatch.setattr(jobs, "WORKER_COMMAND", ["-c", script])
    store = JobStore(tmp_path / "jobs.sqlite3")
    manager = JobManager(store, ServerSettings(data_dir=tmp_path))
    _job(tmp_path, manager, store, "b" * 32)
    manager.start()
    try:
        end = time.monotonic() + 120
        while not manager._starting and time.monotonic() < end:
            time.sleep(0.02)
        assert manager._starting and "b" * 32 in manager._claimed
        assert manager.delete("b" * 32)
        _settle(manager)
        assert store.get("b" * 32) is None and not manager.job_dir("b" * 32).exists()
        assert not sent.exists() or "b" * 32 not in sent.read_text()
    finally:
        manager.stop()


def test_a_job_deleted_right_after_its_claim_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "WORKER_COMMAND", ["-c", "import time; time.sleep(600)"])
    store = JobStore(tmp_path / "jobs.sqlite3")
    manager = JobManager(store, ServerSettings(data_dir=tmp_path))
    claim = store.claim_next

    def claim_then_delete():  # the user's DELETE lands between the claim and the thread taking the job
        job = claim()
        if job is not None:
            manager.delete(job.id)
            manager.job_dir(job.id).mkdir(parents=True, exist_ok=True)  # as a slow rmtree racing a mkdir would
        return job

    monkeypatch.setattr(store, "claim_next", claim_then_delete)
    _job(tmp_path, manager, store, "c" * 32)
    manager.start()
    try:
        end = time.monotonic() + 60
        while manager.job_dir("c" * 32).exists() and time.monotonic() < end:
            time.sleep(0.05)
        _settle(manager)
        assert store.get("c" * 32) is None and not manager.job_dir("c" * 32).exists()
        assert not manager._starting  # no worker was started for a job that is gone
    finally:
        manager.stop()


def test_the_worker_gets_the_whole_config_in_one_json_form(monkeypatch):
    # The analyzer config reaches the worker as `config_json` (every field) and comes back equal, whether the
    # settings hold fields or an AnalyzerConfig; each analyzer gets its own copy, so an Analyzer's overrides
    # (batch_frames=1 for live sessions) never reach another one.
    script = "import json, sys; print(json.dumps({'event': 'ready', 'args': sys.argv[1:]}), flush=True)"
    monkeypatch.setattr(jobs, "WORKER_COMMAND", ["-c", script])
    fields = {"detect_every": 2, "mask": "oval"}
    sent = []
    for given in (fields, AnalyzerConfig(**fields)):
        worker = jobs.WorkerProcess(given)
        try:
            sent.append(worker.events.get(timeout=60)["args"])
        finally:
            worker.kill()
    assert sent[0] == sent[1] and len(sent[0]) == 1
    assert set(json.loads(sent[0][0])) == set(AnalyzerConfig.__dataclass_fields__)
    assert config_from_json(sent[0][0]) == AnalyzerConfig(**fields)
    assert config_from_json(config_json(None)) == AnalyzerConfig()
    shared = AnalyzerConfig(**fields)
    own = analyzer_config(shared)
    own.batch_frames = 1
    assert own is not shared and shared.batch_frames == AnalyzerConfig().batch_frames
    with pytest.raises(EmotraceError, match="detect_every"):
        analyzer_config({"detect_every": 0})


KILL_MID_VIDEO = """
import sys
from emotrace.analyzer_config import AnalyzerConfig
from emotrace.web.jobs import WorkerProcess

worker = WorkerProcess(AnalyzerConfig())
assert worker.wait_ready(600) is None
worker.send({"input": sys.argv[1], "out": sys.argv[2], "name": "clip.mp4"})
progress = 0
while progress < 2:  # well into the annotated video: its encoder is running
    event = worker.events.get(timeout=600)
    assert event is not None and event["event"] in ("start", "progress"), event
    progress += event["event"] == "progress"
worker.kill()
print("killed")
"""


@pytest.mark.slow
def test_killing_a_worker_mid_video_leaves_no_encoder_noise(tmp_path):
    # Issue 24, item 8: SIGTERM killed the worker mid-frame and its FFmpeg encoder, left running on its own,
    # logged "[rawvideo] Invalid buffer size" on reading the cut frame. Reading stderr to its end waits for every
    # process that holds it, the encoder included.
    import subprocess
    import sys

    from tests.helpers import REPO, astronaut_frames, write_video

    clip = write_video(tmp_path / "long.mp4", astronaut_frames(40, size=(960, 720)) * 8, fps=25,
                       codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    run = subprocess.run([sys.executable, "-c", KILL_MID_VIDEO, str(clip), str(tmp_path / "out")], cwd=REPO,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0 and "killed" in run.stdout, run.stderr[-3000:]
    assert "Invalid buffer size" not in run.stderr, run.stderr[-3000:]
