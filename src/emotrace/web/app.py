"""The FastAPI app: the routers of `web.routes` (pages, the versioned HTTP API under /api/v1, the live WebSocket),
the middleware that guards them, the error handlers, and startup/shutdown.

`create_app(settings)` builds one app with its own `Services` (store, job manager, live-session pool);
`serve(settings)` runs it under uvicorn. Every error a client can cause is a 4xx with a one-line JSON `detail`;
nothing answers with a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from emotrace.version import __version__
from emotrace.web.config import analyzer_config
from emotrace.web.jobs import JobManager
from emotrace.web.live import AnalyzerPool, SocketGate
from emotrace.web.openapi import API_DESCRIPTION, openapi
from emotrace.web.routes import STATIC, TOTAL_HEADER, Services, api, pages, secured
from emotrace.web.security import (
    BodyLimitMiddleware,
    OriginGuardMiddleware,
    TokenGateMiddleware,
    scrub_server_logs,
)
from emotrace.web.settings import ServerSettings
from emotrace.web.store import JobStore

log = logging.getLogger("emotrace")

SHUTDOWN_GRACE_S = 4  # open connections get this long; then workers are killed: the server is gone within 10 s


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Scrub tokens from the request log, start the job workers and warm one live analyzer; on shutdown stop the
    workers, then close the store."""
    svc: Services = app.state.services
    scrub_server_logs()  # here, after the server configured its logging, whatever runs the app
    svc.manager.start()
    threading.Thread(target=svc.pool.warm, name="emotrace-warm", daemon=True).start()
    yield
    await asyncio.to_thread(svc.manager.stop)
    svc.store.close()


def create_app(settings: ServerSettings) -> FastAPI:
    """The app with its own store, job manager and live pool (several apps can live in one process)."""
    store = JobStore(Path(settings.data_dir) / "jobs.sqlite3")
    app = FastAPI(title="emotrace", version=__version__, description=API_DESCRIPTION, lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)  # no CDN-served docs pages
    app.state.services = Services(settings=settings, store=store, manager=JobManager(store, settings),
                                  pool=AnalyzerPool(analyzer_config(settings.analyzer), keep=settings.max_sockets),
                                  gate=SocketGate(settings.max_sockets))
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal)

    app.include_router(api)
    app.include_router(secured)
    app.openapi = lambda: openapi(app, secured_token=settings.token is not None)  # type: ignore[method-assign]
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes + 64 * 1024,  # + form framing
                       timeout_s=settings.upload_timeout_s, limit_mb=settings.max_upload_mb)
    app.add_middleware(TokenGateMiddleware, token=settings.token,  # outside the body limit: 401 before 413
                       open_paths=("/api/v1/health", "/api/v1/openapi.json"))
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type"],
                           expose_headers=[TOTAL_HEADER, "Location"])  # readable by the other origin's page
    app.add_middleware(OriginGuardMiddleware, allowed=settings.cors_origins)
    return app


def _one_line(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": _one_line(exc)}, status_code=422)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # Allow: every method of the path, not only those of the first route matched
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=headers)


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": f"internal error ({type(exc).__name__}); see the server log"}, status_code=500)


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


def serve(settings: ServerSettings, log_level: str = "info") -> None:
    """Run the app under uvicorn until interrupted (Ctrl-C or SIGTERM stop it cleanly)."""
    import uvicorn

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=log_level,
                ws="websockets-sansio", ws_max_size=2 * settings.max_frame_bytes, timeout_keep_alive=5,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S, limit_concurrency=200)
