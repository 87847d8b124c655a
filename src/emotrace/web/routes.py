"""Every route of the web app, on module-level routers: `api` (open: health, the live WebSocket), `secured` (the
job API, behind the token) and `pages` (the HTML pages, outside the schema).

The routers hold no state: each app keeps its settings, store, job manager and live pool in one `Services`
(`app.state.services`), which routes reach through the `services` dependency, so several apps can share these
routers in one process.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile, WebSocket
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.requests import HTTPConnection

from emotrace.version import __version__
from emotrace.web.config import analyzer_config
from emotrace.web.jobs import JobManager
from emotrace.web.live import AnalyzerPool, SocketGate, run_session
from emotrace.web.results import (
    DEFAULT_BLENDSHAPES,
    RESULT_FILES,
    RESULT_MEDIA_TYPES,
    archive,
    available_formats,
    json_array,
    signal_columns,
    signal_series,
    table_page,
    timeline_file,
    timeline_tracks,
)
from emotrace.web.schemas import (
    MAX_SIGNALS,
    ErrorOut,
    Health,
    JobOut,
    SignalSeries,
    TablePage,
    errors,
    job_out,
    public_error,
)
from emotrace.web.security import (
    SESSION_COOKIE,
    SESSION_TTL_S,
    SNIFF_BYTES,
    TOKEN_MISSING,
    authorized,
    display_name,
    origin_allowed,
    session_value,
    sniff_media,
)
from emotrace.web.settings import ServerSettings
from emotrace.web.store import Job, JobStore, QueueFull

STATIC = Path(__file__).with_name("static")
JOB_ID = r"^[0-9a-f]{32}$"
MAX_OFFSET = 1_000_000_000  # beyond any real table or job list; keeps every number inside SQLite's 64-bit range
MAX_TRACK_ID = 2**31 - 1
TOTAL_HEADER = "X-Total-Count"  # on the job list: every job, not just the page


@dataclass
class Services:
    """What one app's routes share; `create_app` builds it, the lifespan starts and stops it."""

    settings: ServerSettings
    store: JobStore
    manager: JobManager
    pool: AnalyzerPool
    gate: SocketGate


async def services(conn: HTTPConnection) -> Services:
    """The serving app's `Services` (HTTPConnection: the same dependency serves HTTP routes and the WebSocket)."""
    svc: Services = conn.app.state.services
    return svc


Svc = Annotated[Services, Depends(services)]


async def require_token(conn: HTTPConnection, svc: Svc) -> None:
    """The secured router's guard (the token gate middleware answers first; this keeps each route safe alone)."""
    if not authorized(conn.headers, conn.query_params, conn.cookies, svc.settings.token):
        raise HTTPException(401, TOKEN_MISSING, headers={"WWW-Authenticate": "Bearer"})


job_id_param = PathParam(pattern=JOB_ID, description="32 hex digits, as returned on submission")
api = APIRouter(prefix="/api/v1")
secured = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)])
pages = APIRouter(include_in_schema=False)


def get_job(svc: Services, job_id: str) -> Job:
    """The stored job, or 404."""
    job = svc.store.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id}")
    return job


def finished(svc: Services, job_id: str) -> tuple[Job, Path]:
    """A done job and its results folder; 409 for any other state."""
    job = get_job(svc, job_id)
    if job.status != "done":
        error = public_error(job, svc.manager.job_dir(job_id))
        raise HTTPException(409, f"job {job_id} is {job.status}" + (f": {error}" if error else ""))
    return job, svc.manager.job_dir(job_id) / "out"


def queue_full(max_queue: int) -> HTTPException:
    """The 503 for a full queue, before the upload is read and again if the queue filled while it arrived."""
    return HTTPException(503, f"queue full ({max_queue} jobs waiting); try again later",
                         headers={"Retry-After": "30"})


@api.get("/health", response_model=Health, tags=["server"])
def health(svc: Svc) -> Health:
    """Liveness, queue counts and every limit (open without a token)."""
    return Health(status="ok", version=__version__, jobs=svc.store.counts(), live_sessions=svc.gate.open,
                  limits=svc.settings.limits(), job_defaults={"signals": server_signals(svc.settings)})


def server_signals(settings: ServerSettings) -> int:
    """The server's face-signals setting (`--signals`): what a job that does not choose gets."""
    return analyzer_config(settings.analyzer).signals


def job_signals(values: list[str | UploadFile], settings: ServerSettings) -> int:
    """A submission's `signals` field as a number (absent: the server's setting), or a one-line 400. Read from
    the raw form, not by FastAPI, so that a bad value gets 400 like a bad upload, not a 422, and an empty value
    is refused rather than taken for "left out" (openapi.py declares the field)."""
    if not values:
        return server_signals(settings)
    if len(values) > 1:
        raise HTTPException(400, f"signals must be given once (got it {len(values)} times)")
    value = values[0]
    if not isinstance(value, str):
        raise HTTPException(400, f"signals must be a form field, not a file (0 to {MAX_SIGNALS})")
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(MAX_SIGNALS)) and int(value) <= MAX_SIGNALS):
        raise HTTPException(400, f"signals must be a whole number from 0 to {MAX_SIGNALS} (0: off, N: every Nth "
                            f"frame of each face; got {value[:40]!r})")
    return int(value)


@secured.post("/jobs", status_code=202, response_model=JobOut, tags=["jobs"],
              responses=errors(400, 401, 403, 408, 413, 415, 503, 507))
async def submit(request: Request, svc: Svc,
                 file: Annotated[UploadFile, File(description="an image or a video")]) -> JSONResponse:
    """Upload an image or a video; it is queued for analysis with every output (and face signals as asked)."""
    settings, store = svc.settings, svc.store
    every = job_signals((await request.form()).getlist("signals"), settings)  # parsed already (for `file`)
    if store.counts()["queued"] >= settings.max_queue:
        raise queue_full(settings.max_queue)
    head = await file.read(SNIFF_BYTES)
    if not head:
        raise HTTPException(400, "the uploaded file is empty")
    media = sniff_media(head)
    if media is None:
        raise HTTPException(415, "not an image or video by its content (JPEG, PNG, WebP, TIFF, BMP; MP4, MOV, "
                            "MKV/WebM, AVI, GIF, FLV, MPEG, WMV)")
    job_id = uuid.uuid4().hex
    folder = svc.manager.job_dir(job_id)
    name = f"input{media.ext}"  # server-chosen: the client's file name never reaches the file system

    def save() -> int:
        folder.mkdir(parents=True)
        with open(folder / name, "wb") as fh:
            fh.write(head)
            shutil.copyfileobj(file.file, fh, 1024 * 1024)
            return fh.tell()

    try:
        size = await asyncio.to_thread(save)
        if size > settings.max_upload_bytes:
            shutil.rmtree(folder, ignore_errors=True)
            raise HTTPException(413, f"upload larger than the limit of {settings.max_upload_mb:g} MB")
        job = Job(id=job_id, status="queued", filename=display_name(file.filename), kind=media.kind,
                  media=media.description, input=name, size=size, created=time.time(), signals=every)
        store.add(job, settings.max_queue)
    except QueueFull:
        shutil.rmtree(folder, ignore_errors=True)
        raise queue_full(settings.max_queue) from None
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(507, f"cannot store the upload: {exc.strerror}") from None
    svc.manager.notify()
    body = job_out(job, folder / "out", store).model_dump()
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/jobs/{job_id}"})


@secured.get("/jobs", response_model=list[JobOut], tags=["jobs"],
             responses={200: {"description": "a page of jobs, newest first",
                              "headers": {TOTAL_HEADER: {"description": "how many jobs there are in all (for paging)",
                                                         "schema": {"type": "integer", "minimum": 0}}}},
                        **errors(401)})
def list_jobs(response: Response, svc: Svc, limit: int = Query(50, ge=1, le=500, description="jobs per page"),
              offset: int = Query(0, ge=0, le=MAX_OFFSET, description="jobs to skip (newest first)"),
              q: str = Query("", max_length=200, description="only jobs whose file name contains this (any case)")
              ) -> list[JobOut]:
    """Jobs, newest first, a page at a time: `limit` and `offset` pick the page, `q` filters by file name, the
    X-Total-Count header says how many match in all (a bare list keeps older clients working)."""
    response.headers[TOTAL_HEADER] = str(svc.store.total(q))
    return [job_out(j, svc.manager.job_dir(j.id) / "out", svc.store) for j in svc.store.list(limit, offset, q)]


@secured.get("/jobs/{job_id}", response_model=JobOut, tags=["jobs"], responses=errors(401, 404))
def job_status(svc: Svc, job_id: str = job_id_param) -> JobOut:
    """Status, progress and, once done, result URLs and per-track summary."""
    return job_out(get_job(svc, job_id), svc.manager.job_dir(job_id) / "out", svc.store)


@secured.delete("/jobs/{job_id}", status_code=204, tags=["jobs"], responses=errors(401, 403, 404))
def delete_job(svc: Svc, job_id: str = job_id_param) -> Response:
    """Delete a job and its files; a running job is stopped first."""
    if not svc.manager.delete(job_id):
        raise HTTPException(404, f"no job {job_id}")
    return Response(status_code=204)


@secured.get("/jobs/{job_id}/results/{fmt}", tags=["results"],
             responses={200: {"description": "the file", "content": {m: {} for m in RESULT_MEDIA_TYPES}},
                        206: {"description": "a byte range of the file (Range requests, for video seeking)"},
                        416: {"model": ErrorOut, "description": "the requested range is outside the file"},
                        **errors(401, 404, 409)})
def result(svc: Svc, fmt: Literal["csv", "parquet", "jsonl", "json", "summary", "video", "image"],
           job_id: str = job_id_param) -> Response:
    """A result file: per-frame table (csv, parquet, jsonl, or json array), summary, annotated H.264 video,
    annotated PNG (image jobs)."""
    job, out = finished(svc, job_id)
    if fmt not in available_formats(job.outputs):
        raise HTTPException(404, f"job {job_id} has no {fmt} output")
    name, media_type, download = RESULT_FILES[fmt]
    stem = Path(job.filename).stem[:60] or "emotrace"
    disposition = content_disposition("inline" if fmt in ("video", "image") else "attachment", f"{stem}_{download}")
    if fmt == "json":
        return StreamingResponse(json_array(out / name), media_type=media_type,
                                 headers={"Content-Disposition": disposition})
    return FileResponse(out / name, media_type=media_type, headers={"Content-Disposition": disposition})


@secured.get("/jobs/{job_id}/archive", tags=["results"], response_class=FileResponse,
             responses={200: {"content": {"application/zip": {}}, "description": "every result file in one zip"},
                        **errors(401, 404, 409)})
async def results_archive(svc: Svc, job_id: str = job_id_param) -> FileResponse:
    """Every file the job wrote (tables, summary, annotated video or image, charts, report) in one zip."""
    job, out = finished(svc, job_id)
    if not job.outputs:
        raise HTTPException(404, f"job {job_id} has no result files")
    path = await asyncio.to_thread(archive, out, job.outputs)
    stem = Path(job.filename).stem[:60] or "emotrace"
    return FileResponse(path, media_type="application/zip",
                        headers={"Content-Disposition": content_disposition("attachment", f"{stem}_results.zip")})


@secured.get("/jobs/{job_id}/timelines/{track_id}", tags=["results"], response_class=FileResponse,
             responses={200: {"content": {"image/png": {}}, "description": "the chart"}, **errors(401, 404, 409)})
def timeline(svc: Svc, track_id: int = PathParam(ge=0, le=MAX_TRACK_ID), job_id: str = job_id_param) -> FileResponse:
    """One person's emotion probabilities over time (PNG)."""
    job, out = finished(svc, job_id)
    if track_id not in timeline_tracks(job.outputs):
        raise HTTPException(404, f"job {job_id} has no timeline for track {track_id}")
    return FileResponse(timeline_file(out, track_id), media_type="image/png")


@secured.get("/jobs/{job_id}/table", response_model=TablePage, tags=["results"], responses=errors(401, 404, 409))
def table(svc: Svc, job_id: str = job_id_param, offset: int = Query(0, ge=0, le=MAX_OFFSET),
          limit: int = Query(100, ge=1, le=1000)) -> TablePage:
    """A page of the per-frame table (one row per frame and face)."""
    job, out = finished(svc, job_id)
    if "parquet" not in available_formats(job.outputs):
        raise HTTPException(404, f"job {job_id} has no table")
    return TablePage(**table_page(out / RESULT_FILES["parquet"][0], offset, limit))


@secured.get("/jobs/{job_id}/signals", response_model=SignalSeries, tags=["results"],
             responses=errors(401, 404, 409))
def signals(svc: Svc, job_id: str = job_id_param,
            names: str = Query(",".join(DEFAULT_BLENDSHAPES), max_length=2000, pattern=r"^[A-Za-z,]*$",
                               description="comma list of blendshapes (jawOpen, ...); the pose always comes")
            ) -> SignalSeries:
    """Face signals per track over time, for a job run with signals: the blendshapes asked for and the head pose,
    as means of the measured frames in windows sized to the track (unknown names are left out)."""
    job, out = finished(svc, job_id)
    table = out / RESULT_FILES["parquet"][0]
    have = signal_columns(table) if "parquet" in available_formats(job.outputs) else []
    if not have:
        raise HTTPException(404, f"job {job_id} has no face signals (it ran without them)")
    chosen = [n for n in dict.fromkeys(names.split(",")) if n in have]
    return SignalSeries(**signal_series(table, chosen))


@api.websocket("/live")
async def live(ws: WebSocket, svc: Svc) -> None:
    settings = svc.settings
    if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"), settings.cors_origins):
        await ws.close(code=1008)  # before accept: the handshake is refused with 403
        return

    def allowed() -> bool:  # the pages' session cookie comes with the handshake; API clients send the header
        return authorized(ws.headers, ws.query_params, ws.cookies, settings.token)

    await run_session(ws, settings, svc.gate, svc.pool, allowed)


@secured.post("/session", status_code=204, include_in_schema=False)
def session(request: Request, svc: Svc) -> Response:
    """The pages' login: a client that proved the token (header, or a session still valid) gets a fresh HttpOnly,
    SameSite=Strict session cookie, which images, videos, downloads and the WebSocket then send by themselves, so
    the token never goes into an address (or the access log). Outside the schema: API clients send the header."""
    resp = Response(status_code=204)
    if svc.settings.token is not None:
        resp.set_cookie(SESSION_COOKIE, session_value(svc.settings.token), max_age=SESSION_TTL_S, path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme in ("https", "wss"))
    return resp


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html")


@pages.get("/")
def index() -> FileResponse:
    return _page("index.html")


@pages.get("/live")
def live_page() -> FileResponse:
    return _page("live.html")


@pages.get("/jobs/{job_id}")
def job_page() -> FileResponse:  # the page reads the id from its URL; any id gets the page, the API says 404
    return _page("job.html")


@pages.get("/favicon.ico")
def favicon() -> FileResponse:  # browsers ask for this path whatever the page's <link> says
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


def _ascii(name: str) -> str:
    """A download name safe in a header and still readable: accents dropped (NFKD: "Über" -> "Uber"), other
    characters one `_` per run, none at the ends of the stem (a name with nothing Latin keeps its suffix)."""
    import re
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    safe = re.sub(r"_+", "_", "".join(c if c.isalnum() or c in "-_." else "_" for c in plain)).strip("_.")
    return safe or "download"


def content_disposition(kind: str, name: str) -> str:
    """RFC 6266 with an RFC 5987 `filename*` (UTF-8, percent-encoded) so non-ASCII names arrive intact; the plain
    `filename` is an ASCII fallback for old clients."""
    from urllib.parse import quote

    return f"{kind}; filename=\"{_ascii(name)}\"; filename*=UTF-8''{quote(name, safe='')}"
