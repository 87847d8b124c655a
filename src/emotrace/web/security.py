"""What keeps the server safe to expose: content sniffing, display names that never become paths, the optional
token (a header for API clients, a signed HttpOnly session cookie for the pages, never logged), same-origin checks
and a request-body limit that holds even without a Content-Length header."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SNIFF_BYTES = 512  # enough for every signature below
# What `sniff_media` accepts, as media types: the upload's declared encoding in the OpenAPI schema (the server goes
# by the bytes, never by the type a client sends; tests/web/test_api_contract.py pins the schema).
ACCEPTED_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/bmp",
                        "image/x-portable-anymap", "image/gif", "video/mp4", "video/quicktime", "video/x-matroska",
                        "video/webm", "video/x-msvideo", "video/x-flv", "video/x-ms-asf", "video/mpeg", "video/mp2t")


@dataclass(frozen=True)
class MediaType:
    """What the upload really is, decided from its bytes; `ext` picks the stored file's name, not the client."""

    kind: str  # image | video
    ext: str
    description: str


def sniff_media(head: bytes) -> MediaType | None:
    """The media type from the first bytes of a file, or None for anything that is not an image or a video.

    Only formats the pipeline decodes are accepted (OpenCV images; FFmpeg containers for video); a file that
    passes and still cannot be decoded fails its job with a one-line error.
    """
    h = head[:SNIFF_BYTES]
    if h.startswith(b"\xff\xd8\xff"):
        return MediaType("image", ".jpg", "JPEG image")
    if h.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType("image", ".png", "PNG image")
    if h[:4] == b"RIFF" and h[8:12] == b"WEBP":
        return MediaType("image", ".webp", "WebP image")
    if h[:4] in (b"II*\x00", b"MM\x00*"):
        return MediaType("image", ".tif", "TIFF image")
    if h[:2] == b"BM" and len(h) >= 18 and int.from_bytes(h[14:18], "little") in (12, 40, 52, 56, 64, 108, 124):
        return MediaType("image", ".bmp", "BMP image")
    if re.match(rb"P[56]\s", h):
        return MediaType("image", ".ppm" if h[1:2] == b"6" else ".pgm", "PNM image")
    if h[:6] in (b"GIF87a", b"GIF89a"):
        return MediaType("video", ".gif", "GIF animation")
    if h[4:8] == b"ftyp":
        return MediaType("video", ".mp4", "MP4/QuickTime video")
    if h[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return MediaType("video", ".mov", "QuickTime video")
    if h.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaType("video", ".mkv", "Matroska/WebM video")
    if h[:4] == b"RIFF" and h[8:12] == b"AVI ":
        return MediaType("video", ".avi", "AVI video")
    if h.startswith(b"FLV\x01"):
        return MediaType("video", ".flv", "FLV video")
    if h.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return MediaType("video", ".wmv", "ASF/WMV video")
    if h[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return MediaType("video", ".mpg", "MPEG video")
    if len(h) > 376 and h[0] == h[188] == h[376] == 0x47:
        return MediaType("video", ".ts", "MPEG transport stream")
    return None


def display_name(name: str | None, limit: int = 120) -> str:
    """The uploaded name, only for showing: last path component, no control characters, bounded length."""
    base = re.split(r"[\\/]", name or "")[-1]
    clean = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return clean[:limit] or "upload"


def token_matches(provided: str | None, expected: str | None) -> bool:
    """Constant-time comparison; no expected token means the API is open."""
    if expected is None:
        return True
    return provided is not None and hmac.compare_digest(provided.encode(), expected.encode())


def request_token(headers: Any, query: Any) -> str | None:
    """The token from `Authorization: Bearer ...`, else `?token=` (kept for existing API clients; the pages never
    put it in an address, and the log scrubs it)."""
    auth = headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return query.get("token")


SESSION_COOKIE = "emotrace_session"
SESSION_TTL_S = 12 * 3600


def _signature(token: str, expires: int) -> str:
    return hmac.new(token.encode(), f"emotrace-session:{expires}".encode(), hashlib.sha256).hexdigest()


def session_value(token: str, now: float | None = None, ttl_s: int = SESSION_TTL_S) -> str:
    """The session cookie: an expiry and its HMAC under the token, so the cookie is not the token itself, ends on
    its own and stops working when the server's token changes."""
    expires = int((time.time() if now is None else now) + ttl_s)
    return f"{expires}.{_signature(token, expires)}"


def session_valid(value: str | None, token: str, now: float | None = None) -> bool:
    """A cookie made by `session_value` under this token and not expired (constant-time comparison)."""
    expires, _, sig = (value or "").partition(".")
    if not expires.isdigit() or len(expires) > 12 or int(expires) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(sig.encode(), _signature(token, int(expires)).encode())


def authorized(headers: Any, query: Any, cookies: Any, expected: str | None) -> bool:
    """The token by header (or query), or a valid session cookie; no expected token means the API is open."""
    if expected is None or token_matches(request_token(headers, query), expected):
        return True
    return session_valid(cookies.get(SESSION_COOKIE), expected)


_TOKEN_IN_URL = re.compile(r"(?i)([?&](?:token|access_token)=)[^&#\s\"']*")


def scrub_token(text: str) -> str:
    """`text` with the value of any `token=` query parameter replaced, for logs."""
    return _TOKEN_IN_URL.sub(r"\1***", text)


class TokenScrubFilter(logging.Filter):
    """Rewrites a log record's message and string arguments so no `?token=` value reaches the log (uvicorn logs
    every request's full address; an old client may still send its token in it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub_token(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub_token(a) if isinstance(a, str) else a for a in record.args)
        return True


def scrub_server_logs(names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error", "emotrace")) -> None:
    """Attach the scrubber to the loggers that name request addresses (once; safe to call per app start)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenScrubFilter) for f in logger.filters):
            logger.addFilter(TokenScrubFilter())


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """A browser request from another site is refused unless its origin is allowed (CORS off by default).

    Requests without an Origin header come from non-browser clients and are governed by the token alone.
    """
    if not origin:
        return True
    if "*" in allowed or origin in allowed:
        return True
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyLimitMiddleware:
    """Answers 413 when a request body exceeds `max_bytes` (declared or counted) and 408 when it does not arrive
    within `timeout_s`, before the app has spooled more than the limit. Pure ASGI, so it sees every chunk."""

    def __init__(self, app: Any, max_bytes: int, timeout_s: float, limit_mb: float | None = None) -> None:
        self.app, self.max_bytes, self.timeout_s = app, max_bytes, timeout_s
        self.limit_mb = limit_mb if limit_mb is not None else max_bytes / (1024 * 1024)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        too_large = f"upload larger than the limit of {self.limit_mb:g} MB"
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _json_reply(send, 413, too_large)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        state = {"received": 0, "answered": False}

        async def limited_receive() -> dict[str, Any]:
            if state["answered"]:
                return {"type": "http.disconnect"}
            try:
                msg = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                await _json_reply(send, 408, f"upload did not arrive within {self.timeout_s:g} s")
                state["answered"] = True
                return {"type": "http.disconnect"}
            if msg["type"] == "http.request":
                state["received"] += len(msg.get("body", b""))
                if state["received"] > self.max_bytes:
                    await _json_reply(send, 413, too_large)
                    state["answered"] = True
                    return {"type": "http.disconnect"}
            return msg

        async def guarded_send(msg: dict[str, Any]) -> None:
            if not state["answered"]:  # once we answered, whatever the app says afterwards is dropped
                await send(msg)

        await self.app(scope, limited_receive, guarded_send)


async def _json_reply(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None,
                      ) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


TOKEN_MISSING = "missing or wrong API token (Authorization: Bearer TOKEN)"


class TokenGateMiddleware:
    """With a token set, answers 401 to any /api/ request without it before the body is read, so an unauthorised
    client learns nothing else (not even that its upload is too large). Health and the schema stay open."""

    def __init__(self, app: Any, token: str | None, prefix: str = "/api/", open_paths: tuple[str, ...] = ()) -> None:
        self.app, self.token, self.prefix, self.open_paths = app, token, prefix, open_paths

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if (self.token is None or scope["type"] != "http" or scope["method"] == "OPTIONS"
                or not scope["path"].startswith(self.prefix) or scope["path"] in self.open_paths):
            await self.app(scope, receive, send)
            return
        from urllib.parse import parse_qs

        from starlette.requests import cookie_parser

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}
        if authorized(headers, query, cookie_parser(headers.get("cookie", "")), self.token):
            await self.app(scope, receive, send)
            return
        await _json_reply(send, 401, TOKEN_MISSING, [(b"www-authenticate", b"Bearer")])


# The pages load only their own scripts, styles and media; sockets go back to the same host.
CSP = ("default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
       "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"), (b"content-security-policy", CSP.encode())]


class OriginGuardMiddleware:
    """Refuses state-changing requests (POST, DELETE, ...) from other sites' pages with 403, since a browser sends
    those cross-origin even with CORS off, and adds the safety headers to every response."""

    def __init__(self, app: Any, allowed: list[str]) -> None:
        self.app, self.allowed = app, allowed

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1") or None
        host = headers.get(b"host", b"").decode("latin-1") or None
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and not origin_allowed(origin, host, self.allowed):
            await _json_reply(send, 403, f"requests from {origin} are not allowed (CORS is off)")
            return

        async def with_headers(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                msg = {**msg, "headers": [*msg.get("headers", []), *_HEADERS]}
            await send(msg)

        await self.app(scope, receive, with_headers)
