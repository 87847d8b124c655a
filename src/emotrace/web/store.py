"""The job store: one SQLite file, so jobs and their results survive a restart of the server.

SQLite is embedded (nothing to run beside the server) and its transactions make "check the queue bound, then add"
atomic; one connection guarded by a lock is plenty for a handful of job updates per second.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATUSES = ("queued", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    filename TEXT NOT NULL,
    kind TEXT NOT NULL,
    media TEXT NOT NULL,
    input TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    frames_done INTEGER NOT NULL DEFAULT 0,
    frames_total INTEGER,
    error TEXT,
    outputs TEXT NOT NULL DEFAULT '[]',
    warnings TEXT NOT NULL DEFAULT '[]',
    signals INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_status_created ON jobs (status, created);
"""


@dataclass
class Job:
    """One row. `input` is the stored file's name inside the job folder (server-chosen, never the client's)."""

    id: str
    status: str
    filename: str
    kind: str
    media: str
    input: str
    size: int
    created: float
    started: float | None = None
    finished: float | None = None
    frames_done: int = 0
    frames_total: int | None = None
    error: str | None = None
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. where decoding of a truncated upload stopped
    signals: int | None = None  # face signals every N frames (0: off), as asked at submission; None: a job from
    # before per-job signals, run with the server's setting


class QueueFull(Exception):
    """The bounded queue holds `max_queued` jobs already."""


class JobStore:
    """Thread-safe CRUD over the jobs table."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a finished job is on disk before the client hears of it
        self._db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the columns a store written by an older version lacks (CREATE TABLE IF NOT EXISTS leaves an existing
        table as it was), so upgrading the server keeps every job of its data dir."""
        have = {r["name"] for r in self._db.execute("PRAGMA table_info(jobs)")}
        for name, decl in (("warnings", "TEXT NOT NULL DEFAULT '[]'"), ("signals", "INTEGER")):
            if name not in have:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {decl}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _job(row: sqlite3.Row | None) -> Job | None:
        if row is None:
            return None
        d = dict(row)
        d["outputs"] = json.loads(d["outputs"])
        d["warnings"] = json.loads(d.get("warnings") or "[]")
        return Job(**d)

    def add(self, job: Job, max_queued: int) -> None:
        """Insert a queued job, or raise QueueFull when `max_queued` jobs are already waiting."""
        d = asdict(job)
        d["outputs"] = json.dumps(d["outputs"])
        d["warnings"] = json.dumps(d["warnings"])
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (waiting,) = self._db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()
                if waiting >= max_queued:
                    raise QueueFull(f"{waiting} jobs are waiting already")
                cols = ", ".join(d)
                self._db.execute(f"INSERT INTO jobs ({cols}) VALUES ({', '.join('?' * len(d))})", list(d.values()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def claim_next(self) -> Job | None:
        """The oldest queued job, marked running (atomically, so two workers never take the same job)."""
        with self._lock:
            row = self._db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created LIMIT 1").fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE jobs SET status = 'running', started = ?, frames_done = 0 WHERE id = ?",
                             (time.time(), row["id"]))
            return self._job(self._db.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone())

    def update(self, job_id: str, **fields: Any) -> bool:
        """Set columns of a job; False when the job no longer exists (deleted meanwhile)."""
        for k in ("outputs", "warnings"):
            if k in fields:
                fields[k] = json.dumps(fields[k])
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._lock:
            cur = self._db.execute(f"UPDATE jobs SET {sets} WHERE id = ?", [*fields.values(), job_id])
            return cur.rowcount > 0

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._job(self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def list(self, limit: int = 50, offset: int = 0, name: str = "") -> list[Job]:
        """Jobs newest first; `name`: only those whose file name contains it (any case)."""
        where, args = _name_filter(name)
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM jobs{where} ORDER BY created DESC LIMIT ? OFFSET ?",
                                    (*args, limit, offset)).fetchall()
        return [j for j in (self._job(r) for r in rows) if j is not None]

    def total(self, name: str = "") -> int:
        """How many jobs there are (with `name`: whose file name contains it), whatever their state (paging)."""
        where, args = _name_filter(name)
        with self._lock:
            (n,) = self._db.execute(f"SELECT COUNT(*) FROM jobs{where}", args).fetchone()
        return int(n)

    def queue_position(self, job: Job) -> int | None:
        """1 for the next job to run, 2 for the one after...; None when the job is not waiting."""
        if job.status != "queued":
            return None
        with self._lock:
            (ahead,) = self._db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND (created < ? OR "
                                        "(created = ? AND id < ?))", (job.created, job.created, job.id)).fetchone()
        return int(ahead) + 1

    def delete(self, job_id: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount > 0

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetchall()
        out = dict.fromkeys(STATUSES, 0)
        out.update({r["status"]: r["n"] for r in rows})
        return out

    def requeue_interrupted(self) -> int:
        """Jobs left running by a stopped server go back to the queue (their outputs are all-or-nothing, so a
        rerun starts clean); returns how many."""
        with self._lock:
            return self._db.execute("UPDATE jobs SET status = 'queued', started = NULL, frames_done = 0 "
                                    "WHERE status = 'running'").rowcount


def _name_filter(name: str) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause matching file names that contain `name`, any case; LIKE's wildcards in it match literally."""
    if not name:
        return "", ()
    escaped = name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return " WHERE lower(filename) LIKE ? ESCAPE '\\'", (f"%{escaped}%",)
