"""The API's bodies as pydantic models, the error codes each route documents, and the one place a stored `Job`
becomes the `JobOut` clients see (so the submit, list and status routes answer alike)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from emotrace.web.results import available_formats, summary_persons, summary_tracks, timeline_tracks
from emotrace.web.store import Job, JobStore


class ErrorOut(BaseModel):
    """Every 4xx/5xx answer."""

    detail: str


MAX_SIGNALS = 10_000  # a bound far past any useful spacing, so a job row never stores a huge integer

ERRORS = {400: "bad request (an empty upload, a bad signals value)",
          401: "missing or wrong API token (only with --token)", 403: "request from another site's page",
          404: "no such job, result or track",
          408: "upload did not arrive in time", 409: "the job is not done (yet, or it failed)",
          413: "upload too large", 415: "not an image or video", 422: "invalid parameter",
          503: "queue full; retry after the Retry-After seconds", 507: "cannot store the upload"}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error codes a route can answer (plus 422 on every route)."""
    return {c: {"model": ErrorOut, "description": ERRORS[c]} for c in sorted({*codes, 422})}


class Progress(BaseModel):
    frames_done: int
    frames_total: int | None
    fraction: float | None


class Timeline(BaseModel):
    track_id: int
    url: str


class JobOut(BaseModel):
    """A job as the API shows it; `results` maps each available format to its URL."""

    id: str
    status: Literal["queued", "running", "done", "failed"]
    filename: str
    kind: Literal["image", "video"]
    media: str
    size_bytes: int
    created: float
    started: float | None
    finished: float | None
    progress: Progress
    queue_position: int | None  # 1 = next to run; null unless queued
    processing_s: float | None  # seconds from start to finish (or so far, while running)
    error: str | None
    warnings: list[str]  # things to know about a finished job: truncated input, no face found
    signals: int | None  # face signals every N frames of each track (0: off), as submitted; null: a job stored
    # before per-job signals, run with the server's setting
    results: dict[str, str]
    timelines: list[Timeline]
    tracks: list[dict[str, Any]]
    persons: list[dict[str, Any]]  # person linking on: each person with its tracks (issue 25); empty when off


class TablePage(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    offset: int
    total: int


class SignalTrack(BaseModel):
    track_id: int
    window_s: float  # the track's windows: each point is the mean of the frames measured in one
    t: list[float]  # window centres (s)
    values: dict[str, list[float | None]]  # name (a blendshape, yaw, pitch, roll) -> one mean per window


class SignalSeries(BaseModel):
    blendshapes: list[str]  # every blendshape the job's table has (what a client may ask for)
    names: list[str]  # the series of each track: the blendshapes asked for, then yaw, pitch, roll
    tracks: list[SignalTrack]


class Health(BaseModel):
    status: str
    version: str
    jobs: dict[str, int]
    live_sessions: int
    limits: dict[str, Any]
    job_defaults: dict[str, Any]  # what a submission gets for each option it leaves out ({"signals": N})


def public_error(job: Job, job_dir: Path) -> str | None:
    """The job's error as clients may see it: the stored input named by the uploaded file's name and any other
    path in the job's folder by its file name, so no server path reaches a client (rows from older versions too)."""
    if not job.error:
        return job.error
    text = job.error.replace(str(job_dir / job.input), job.filename)
    return re.sub(re.escape(str(job_dir)) + r"[/\\]?([^\s:'\"]*)", lambda m: Path(m.group(1)).name or job.filename,
                  text)


def job_out(job: Job, out_dir: Path, store: JobStore | None = None) -> JobOut:
    """`job` as clients see it; `out_dir` holds its results, `store` gives its place in the queue."""
    base = f"/api/v1/jobs/{job.id}"
    took = None if job.started is None else round((job.finished or time.time()) - job.started, 3)
    total = job.frames_total
    frac = 1.0 if job.status == "done" else (min(1.0, job.frames_done / total) if total else None)
    done = job.status == "done"
    return JobOut(
        id=job.id, status=job.status, filename=job.filename, kind=job.kind, media=job.media, size_bytes=job.size,
        created=job.created, started=job.started, finished=job.finished,
        progress=Progress(frames_done=job.frames_done, frames_total=total, fraction=frac),
        error=public_error(job, out_dir.parent),
        queue_position=store.queue_position(job) if store is not None else None, processing_s=took,
        warnings=list(job.warnings), signals=job.signals,
        results={f: f"{base}/results/{f}" for f in available_formats(job.outputs)} if done else {},
        timelines=[Timeline(track_id=t, url=f"{base}/timelines/{t}") for t in timeline_tracks(job.outputs)]
        if done else [],
        tracks=summary_tracks(out_dir) if done else [], persons=summary_persons(out_dir) if done else [])
