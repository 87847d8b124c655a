"""The SQLite job store: queue bound, claim order, updates, and what survives reopening."""

from __future__ import annotations

import pytest

from emotrace.web.store import Job, JobStore, QueueFull


def job(i: int, created: float) -> Job:
    return Job(id=f"{i:032x}", status="queued", filename=f"f{i}.mp4", kind="video", media="MP4", input="input.mp4",
               size=10, created=created)


def test_queue_bound_and_claim_order(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.add(job(1, 2.0), max_queued=2)
    store.add(job(2, 1.0), max_queued=2)
    with pytest.raises(QueueFull):
        store.add(job(3, 3.0), max_queued=2)
    assert store.get(job(3, 0).id) is None
    first = store.claim_next()
    assert first is not None and first.id == job(2, 0).id and first.status == "running" and first.started
    store.add(job(3, 3.0), max_queued=2)  # a running job no longer counts against the queue
    assert store.counts() == {"queued": 2, "running": 1, "done": 0, "failed": 0}
    assert [j.id for j in store.list()] == [job(3, 0).id, job(1, 0).id, job(2, 0).id]


def test_updates_deletes_and_reopen(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    store = JobStore(path)
    store.add(job(1, 1.0), 10)
    store.add(job(2, 2.0), 10)
    store.claim_next()
    assert store.update(job(1, 0).id, status="done", outputs=["emotions.csv"], frames_done=5)
    store.claim_next()
    assert store.delete(job(3, 0).id) is False
    assert store.update(job(3, 0).id, status="done") is False
    store.close()

    again = JobStore(path)  # a restart
    done = again.get(job(1, 0).id)
    assert done is not None and done.status == "done" and done.outputs == ["emotions.csv"] and done.frames_done == 5
    assert again.requeue_interrupted() == 1  # job 2 was running when the server stopped
    back = again.get(job(2, 0).id)
    assert back is not None and back.status == "queued" and back.started is None
    assert again.delete(job(1, 0).id) and again.get(job(1, 0).id) is None


def test_warnings_and_queue_position(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    for i in (1, 2, 3):
        store.add(job(i, float(i)), 10)
    assert [store.queue_position(store.get(job(i, 0).id)) for i in (1, 2, 3)] == [1, 2, 3]
    running = store.claim_next()
    assert store.queue_position(running) is None
    assert store.queue_position(store.get(job(3, 0).id)) == 2
    store.update(running.id, status="done", warnings=["no face found in the image"])
    assert store.get(running.id).warnings == ["no face found in the image"]


def test_a_store_from_before_warnings_is_migrated(tmp_path):
    import sqlite3

    path = tmp_path / "jobs.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, filename TEXT NOT NULL, kind TEXT NOT "
               "NULL, media TEXT NOT NULL, input TEXT NOT NULL, size INTEGER NOT NULL, created REAL NOT NULL, "
               "started REAL, finished REAL, frames_done INTEGER NOT NULL DEFAULT 0, frames_total INTEGER, error "
               "TEXT, outputs TEXT NOT NULL DEFAULT '[]')")
    db.execute("INSERT INTO jobs (id, status, filename, kind, media, input, size, created) VALUES "
               "('a', 'done', 'x.mp4', 'video', 'MP4', 'input.mp4', 1, 1.0)")
    db.commit()
    db.close()
    store = JobStore(path)
    assert store.get("a").warnings == [] and store.get("a").status == "done"


# The schema of the version before per-job signals, as its data dirs hold it (the migration's starting point).
SCHEMA_BEFORE_SIGNALS = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, filename TEXT NOT NULL, kind TEXT NOT NULL, media TEXT NOT NULL,
    input TEXT NOT NULL, size INTEGER NOT NULL, created REAL NOT NULL, started REAL, finished REAL,
    frames_done INTEGER NOT NULL DEFAULT 0, frames_total INTEGER, error TEXT, outputs TEXT NOT NULL DEFAULT '[]',
    warnings TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS jobs_status_created ON jobs (status, created);
"""


def test_a_store_from_before_per_job_signals_is_migrated(tmp_path):
    import sqlite3

    path = tmp_path / "jobs.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_BEFORE_SIGNALS)
    db.execute("INSERT INTO jobs (id, status, filename, kind, media, input, size, created, outputs, warnings) "
               "VALUES ('a', 'done', 'x.mp4', 'video', 'MP4', 'input.mp4', 1, 1.0, '[\"emotions.csv\"]', '[]')")
    db.execute("INSERT INTO jobs (id, status, filename, kind, media, input, size, created) VALUES "
               "('b', 'queued', 'y.jpg', 'image', 'JPEG', 'input.jpg', 1, 2.0)")
    db.commit()
    db.close()
    store = JobStore(path)
    old = store.get("a")
    assert old is not None and old.status == "done" and old.outputs == ["emotions.csv"] and old.signals is None
    waiting = store.claim_next()  # a job queued before the upgrade still runs (with the server's setting)
    assert waiting is not None and waiting.id == "b" and waiting.signals is None
    store.add(Job(**{**vars(job(3, 3.0)), "signals": 5}), 10)
    store.close()
    again = JobStore(path)  # reopening a migrated store changes nothing
    assert again.get(job(3, 0).id).signals == 5 and again.get("a").signals is None
    again.close()


def test_each_job_keeps_its_signals_choice(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    for i, every in ((1, 0), (2, 1), (3, None)):
        store.add(Job(**{**vars(job(i, float(i))), "signals": every}), 10)
    assert [store.get(job(i, 0).id).signals for i in (1, 2, 3)] == [0, 1, None]
    assert store.claim_next().signals == 0
    store.close()
