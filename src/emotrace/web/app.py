"""The FastAPI app: pages (upload, results, live), the versioned HTTP API under /api/v1 and the live WebSocket.

`create_app(settings)` wires the store, the job manager and the live-session pool; `serve(settings)` runs it under
uvicorn. Every error a client can cause is a 4xx with a one-line JSON `detail`; nothing answers with a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Query, Request, UploadFile, WebSocket
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from emotrace.version import __version__
from emotrace.web.jobs import JobManager
from emotrace.web.live import AnalyzerPool, SocketGate, run_session
from emotrace.web.results import (
    RESULT_FILES,
    RESULT_MEDIA_TYPES,
    available_formats,
    json_array,
    summary_tracks,
    table_page,
    timeline_file,
    timeline_tracks,
)
from emotrace.web.security import (
    SNIFF_BYTES,
    TOKEN_MISSING,
    BodyLimitMiddleware,
    OriginGuardMiddleware,
    TokenGateMiddleware,
    display_name,
    origin_allowed,
    request_token,
    sniff_media,
    token_matches,
)
from emotrace.web.settings import ServerSettings
from emotrace.web.store import Job, JobStore, QueueFull

log = logging.getLogger("emotrace")

STATIC = Path(__file__).with_name("static")
JOB_ID = r"^[0-9a-f]{32}$"
API_DESCRIPTION = """\
Face-emotion analysis of uploaded images and videos (jobs), and of live frames over a WebSocket.

**Jobs.** `POST /api/v1/jobs` with a multipart `file` queues a job (202). Poll `GET /api/v1/jobs/{id}` until
`status` is `done` or `failed` (`queue_position` says how many jobs are ahead, `warnings` what to know about a
finished one, such as a truncated upload or no face found); then fetch
`results/{csv|parquet|jsonl|json|summary|video|image}` (`image`: the annotated picture of an image job), `table`
pages and per-track `timelines/{track_id}` charts. `DELETE` removes a job and its files, stopping it if it runs.
Limits: uploads over `max_upload_bytes` get 413, non-media content 415, a full queue 503 (see `/api/v1/health`).

**Live stream** (WebSocket, not listed below): `ws://HOST/api/v1/live[?token=...]`. The server first sends
`{"type": "ready", "classes": [...]}`. Send each frame as one binary message (JPEG, PNG or WebP); each gets one
JSON answer `{"type": "result", "seq", "width", "height", "detected", "server_ms", "faces": [...]}`, each face with
the table's face columns, names and precision (`track_id`, `x1`..`y2`, `det_score`, `detected`, `crop`, `frame_*`,
`temporal_*`, `label`, `label_prob`, `frame_label`, and `valence`, `arousal` where the model has them), or
`{"type": "error", "status", "detail"}`.
Send the next frame after the answer. Text `{"type": "reset"}` forgets all tracks. Past `max_sockets` sessions
the server sends an error with status 503 and closes with code 1013 (try again later); a wrong token gets 401 and
code 1008; no frame for `ws_idle_s` closes the socket.

**Token.** When the server runs with `--token`, every call but `/api/v1/health` and this schema
(`/api/v1/openapi.json`, open so that clients can discover the API) needs `Authorization: Bearer TOKEN` or
`?token=TOKEN`; without it the answer is 401 before anything else, an oversized upload included.

**Errors.** Every error answer is JSON `{"detail": "one line"}`, validation errors (422) included.
"""

SHUTDOWN_GRACE_S = 4  # open connections get this long; then workers are killed: the server is gone within 10 s
MAX_OFFSET = 1_000_000_000  # beyond any real table or job list; keeps every number inside SQLite's 64-bit range
MAX_TRACK_ID = 2**31 - 1


class ErrorOut(BaseModel):
    """Every 4xx/5xx answer."""

    detail: str


ERRORS = {400: "bad request (an empty upload)", 401: "missing or wrong API token (only with --token)",
          403: "request from another site's page", 404: "no such job, result or track",
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
    results: dict[str, str]
    timelines: list[Timeline]
    tracks: list[dict[str, Any]]


class TablePage(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    offset: int
    total: int


class Health(BaseModel):
    status: str
    version: str
    jobs: dict[str, int]
    live_sessions: int
    limits: dict[str, Any]


def _job_out(job: Job, out_dir: Path, store: JobStore | None = None) -> JobOut:
    base = f"/api/v1/jobs/{job.id}"
    took = None if job.started is None else round((job.finished or time.time()) - job.started, 3)
    total = job.frames_total
    frac = 1.0 if job.status == "done" else (min(1.0, job.frames_done / total) if total else None)
    done = job.status == "done"
    return JobOut(
        id=job.id, status=job.status, filename=job.filename, kind=job.kind, media=job.media, size_bytes=job.size,
        created=job.created, started=job.started, finished=job.finished,
        progress=Progress(frames_done=job.frames_done, frames_total=total, fraction=frac), error=job.error,
        queue_position=store.queue_position(job) if store is not None else None, processing_s=took,
        warnings=list(job.warnings),
        results={f: f"{base}/results/{f}" for f in available_formats(job.outputs)} if done else {},
        timelines=[Timeline(track_id=t, url=f"{base}/timelines/{t}") for t in timeline_tracks(job.outputs)]
        if done else [],
        tracks=summary_tracks(out_dir) if done else [])


def _one_line(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def create_app(settings: ServerSettings) -> FastAPI:
    """The app with its own store, job manager and live pool (several apps can live in one process)."""
    data_dir = Path(settings.data_dir)
    store = JobStore(data_dir / "jobs.sqlite3")
    manager = JobManager(store, settings)
    pool = AnalyzerPool(settings.analyzer, keep=settings.max_sockets)
    gate = SocketGate(settings.max_sockets)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        manager.start()
        threading.Thread(target=pool.warm, name="emotrace-warm", daemon=True).start()
        yield
        await asyncio.to_thread(manager.stop)
        store.close()

    app = FastAPI(title="emotrace", version=__version__, description=API_DESCRIPTION, lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)  # no CDN-served docs pages
    app.state.settings, app.state.store, app.state.manager, app.state.gate = settings, store, manager, gate

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Allow: every method of the path, not only those of the first route matched
            headers["Allow"] = ", ".join(allowed_methods(app, request.url.path))
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); see the server log"},
                            status_code=500)

    def require_token(request: Request) -> None:
        if not token_matches(request_token(request.headers, request.query_params), settings.token):
            raise HTTPException(401, TOKEN_MISSING, headers={"WWW-Authenticate": "Bearer"})

    def get_job(job_id: str) -> Job:
        job = store.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        return job

    job_id_param = PathParam(pattern=JOB_ID, description="32 hex digits, as returned on submission")
    api = APIRouter(prefix="/api/v1")
    secured = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)])

    @api.get("/health", response_model=Health, tags=["server"])
    def health() -> Health:
        """Liveness, queue counts and every limit (open without a token)."""
        return Health(status="ok", version=__version__, jobs=store.counts(), live_sessions=gate.open,
                      limits=settings.limits())

    @secured.post("/jobs", status_code=202, response_model=JobOut, tags=["jobs"],
                  responses=errors(400, 401, 403, 408, 413, 415, 503, 507))
    async def submit(file: Annotated[UploadFile, File(description="an image or a video")]) -> JSONResponse:
        """Upload an image or a video; it is queued for analysis with every output."""
        if store.counts()["queued"] >= settings.max_queue:
            raise HTTPException(503, f"queue full ({settings.max_queue} jobs waiting); try again later",
                                headers={"Retry-After": "30"})
        head = await file.read(SNIFF_BYTES)
        if not head:
            raise HTTPException(400, "the uploaded file is empty")
        media = sniff_media(head)
        if media is None:
            raise HTTPException(415, "not an image or video by its content (JPEG, PNG, WebP, TIFF, BMP; MP4, MOV, "
                                "MKV/WebM, AVI, GIF, FLV, MPEG, WMV)")
        job_id = uuid.uuid4().hex
        folder = manager.job_dir(job_id)
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
                      media=media.description, input=name, size=size, created=time.time())
            store.add(job, settings.max_queue)
        except QueueFull:
            shutil.rmtree(folder, ignore_errors=True)
            raise HTTPException(503, f"queue full ({settings.max_queue} jobs waiting); try again later",
                                headers={"Retry-After": "30"}) from None
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise HTTPException(507, f"cannot store the upload: {exc.strerror}") from None
        manager.notify()
        body = _job_out(job, folder / "out", store).model_dump()
        return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/jobs/{job_id}"})

    @secured.get("/jobs", response_model=list[JobOut], tags=["jobs"], responses=errors(401))
    def list_jobs(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> list[JobOut]:
        """Jobs, newest first."""
        return [_job_out(j, manager.job_dir(j.id) / "out", store) for j in store.list(limit, offset)]

    @secured.get("/jobs/{job_id}", response_model=JobOut, tags=["jobs"], responses=errors(401, 404))
    def job_status(job_id: str = job_id_param) -> JobOut:
        """Status, progress and, once done, result URLs and per-track summary."""
        return _job_out(get_job(job_id), manager.job_dir(job_id) / "out", store)

    @secured.delete("/jobs/{job_id}", status_code=204, tags=["jobs"], responses=errors(401, 403, 404))
    def delete_job(job_id: str = job_id_param) -> Response:
        """Delete a job and its files; a running job is stopped first."""
        if not manager.delete(job_id):
            raise HTTPException(404, f"no job {job_id}")
        return Response(status_code=204)

    def finished(job_id: str) -> tuple[Job, Path]:
        job = get_job(job_id)
        if job.status != "done":
            raise HTTPException(409, f"job {job_id} is {job.status}" + (f": {job.error}" if job.error else ""))
        return job, manager.job_dir(job_id) / "out"

    @secured.get("/jobs/{job_id}/results/{fmt}", tags=["results"],
                 responses={200: {"description": "the file", "content": {m: {} for m in RESULT_MEDIA_TYPES}},
                            206: {"description": "a byte range of the file (Range requests, for video seeking)"},
                            416: {"model": ErrorOut, "description": "the requested range is outside the file"},
                            **errors(401, 404, 409)})
    def result(fmt: Literal["csv", "parquet", "jsonl", "json", "summary", "video", "image"],
               job_id: str = job_id_param) -> Response:
        """A result file: per-frame table (csv, parquet, jsonl, or json array), summary, annotated H.264 video,
        annotated PNG (image jobs)."""
        job, out = finished(job_id)
        if fmt not in available_formats(job.outputs):
            raise HTTPException(404, f"job {job_id} has no {fmt} output")
        name, media_type, download = RESULT_FILES[fmt]
        stem = Path(job.filename).stem[:60] or "emotrace"
        disposition = content_disposition("inline" if fmt in ("video", "image") else "attachment",
                                          f"{stem}_{download}")
        if fmt == "json":
            return StreamingResponse(json_array(out / name), media_type=media_type,
                                     headers={"Content-Disposition": disposition})
        return FileResponse(out / name, media_type=media_type, headers={"Content-Disposition": disposition})

    @secured.get("/jobs/{job_id}/timelines/{track_id}", tags=["results"], response_class=FileResponse,
                 responses={200: {"content": {"image/png": {}}, "description": "the chart"},
                            **errors(401, 404, 409)})
    def timeline(track_id: int = PathParam(ge=0, le=MAX_TRACK_ID), job_id: str = job_id_param) -> FileResponse:
        """One person's emotion probabilities over time (PNG)."""
        job, out = finished(job_id)
        if track_id not in timeline_tracks(job.outputs):
            raise HTTPException(404, f"job {job_id} has no timeline for track {track_id}")
        return FileResponse(timeline_file(out, track_id), media_type="image/png")

    @secured.get("/jobs/{job_id}/table", response_model=TablePage, tags=["results"], responses=errors(401, 404, 409))
    def table(job_id: str = job_id_param, offset: int = Query(0, ge=0, le=MAX_OFFSET),
              limit: int = Query(100, ge=1, le=1000)) -> TablePage:
        """A page of the per-frame table (one row per frame and face)."""
        job, out = finished(job_id)
        if "parquet" not in available_formats(job.outputs):
            raise HTTPException(404, f"job {job_id} has no table")
        return TablePage(**table_page(out / RESULT_FILES["parquet"][0], offset, limit))

    @app.websocket("/api/v1/live")
    async def live(ws: WebSocket) -> None:
        if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"), settings.cors_origins):
            await ws.close(code=1008)  # before accept: the handshake is refused with 403
            return

        def authorized() -> bool:
            return token_matches(request_token(ws.headers, ws.query_params), settings.token)

        await run_session(ws, settings, gate, pool, authorized)

    app.include_router(api)
    app.include_router(secured)
    app.openapi = lambda: _openapi(app, secured_token=settings.token is not None)  # type: ignore[method-assign]

    def page(name: str) -> Any:
        def handler() -> FileResponse:
            return FileResponse(STATIC / name, media_type="text/html")
        return handler

    app.get("/", include_in_schema=False)(page("index.html"))
    app.get("/live", include_in_schema=False)(page("live.html"))
    app.get("/jobs/{job_id}", include_in_schema=False)(page("job.html"))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:  # browsers ask for this path whatever the page's <link> says
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes + 64 * 1024,  # + form framing
                       timeout_s=settings.upload_timeout_s, limit_mb=settings.max_upload_mb)
    app.add_middleware(TokenGateMiddleware, token=settings.token,  # outside the body limit: 401 before 413
                       open_paths=("/api/v1/health", "/api/v1/openapi.json"))
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(OriginGuardMiddleware, allowed=settings.cors_origins)
    return app


def _ascii(name: str) -> str:
    """A download name safe in a header."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)


def content_disposition(kind: str, name: str) -> str:
    """RFC 6266 with an RFC 5987 `filename*` (UTF-8, percent-encoded) so non-ASCII names arrive intact; the plain
    `filename` is an ASCII fallback for old clients."""
    from urllib.parse import quote

    return f"{kind}; filename=\"{_ascii(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at `path` (HEAD with GET), for 405 answers' Allow header: each method is
    routed as a request would be, so routes inside included routers count too."""
    from starlette.routing import Match

    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": [], "query_string": b""}
        if any(route.matches(scope)[0] == Match.FULL for route in app.router.routes):
            allowed.append(method)
    return allowed


def _openapi(app: FastAPI, secured_token: bool) -> dict[str, Any]:
    """The schema as the server behaves: 422 bodies are `{"detail": str}` (not FastAPI's list), and with --token
    every operation but health declares the bearer token."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    comps = spec.setdefault("components", {})
    schemas = comps.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if secured_token:
        comps["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"},
                                    "query": {"type": "apiKey", "in": "query", "name": "token"}}
    for path, ops in spec.get("paths", {}).items():
        for op in ops.values():
            for code, resp in op.get("responses", {}).items():
                if code == "422" or (code.isdigit() and int(code) >= 400):
                    resp["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
            if path != "/api/v1/health" and secured_token:
                op["security"] = [{"bearer": []}, {"query": []}]
            elif not secured_token:
                op.get("responses", {}).pop("401", None)
    app.openapi_schema = spec
    return spec


def serve(settings: ServerSettings, log_level: str = "info") -> None:
    """Run the app under uvicorn until interrupted (Ctrl-C or SIGTERM stop it cleanly)."""
    import uvicorn

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=log_level,
                ws="websockets-sansio", ws_max_size=2 * settings.max_frame_bytes, timeout_keep_alive=5,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S, limit_concurrency=200)
