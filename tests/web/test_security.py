"""Content sniffing, display names, tokens, origins and the body limit, on real encodings and a real ASGI call."""

from __future__ import annotations

import asyncio
import json

import cv2
import pytest

from emotrace.web.security import (
    SESSION_COOKIE,
    BodyLimitMiddleware,
    TokenScrubFilter,
    authorized,
    display_name,
    origin_allowed,
    request_token,
    scrub_token,
    session_valid,
    session_value,
    sniff_media,
    token_matches,
)
from tests.helpers import astronaut_frames, write_video


@pytest.mark.parametrize("ext,expected", [(".jpg", ".jpg"), (".png", ".png"), (".webp", ".webp"),
                                          (".tiff", ".tif"), (".bmp", ".bmp"), (".ppm", ".ppm"), (".pgm", ".pgm")])
def test_images_are_recognised_by_their_bytes(ext, expected):
    img = astronaut_frames(1)[0]
    if ext == ".pgm":
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    media = sniff_media(cv2.imencode(ext, img)[1].tobytes())
    assert media is not None and media.kind == "image" and media.ext == expected


@pytest.mark.parametrize("name,codec,expected", [
    ("v.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"], ".mp4"),
    ("v.mov", ["-c:v", "mpeg4"], ".mp4"),
    ("v.mkv", ["-c:v", "mpeg4"], ".mkv"),
    ("v.webm", ["-c:v", "libvpx-vp9"], ".mkv"),
    ("v.avi", ["-c:v", "mpeg4"], ".avi"),
    ("v.gif", [], ".gif"),
    ("v.flv", ["-c:v", "flv"], ".flv"),
    ("v.ts", ["-c:v", "mpeg2video"], ".ts"),
    ("v.mpg", ["-c:v", "mpeg2video"], ".mpg"),
    ("v.wmv", ["-c:v", "wmv2"], ".wmv"),
])
def test_videos_are_recognised_by_their_bytes(tmp_path, name, codec, expected):
    path = write_video(tmp_path / name, astronaut_frames(4), codec=codec)
    media = sniff_media(path.read_bytes()[:512])
    assert media is not None and media.kind == "video" and media.ext == expected


@pytest.mark.parametrize("head", [b"", b"hello world\n" * 10, b"%PDF-1.7\n", b"PK\x03\x04" + b"\0" * 40,
                                  b"\x7fELF\x02\x01\x01" + b"\0" * 60, b"<html><body>", b"BM" + b"\0" * 40,
                                  b"RIFF\0\0\0\0WAVEfmt "])
def test_non_media_is_refused(head):
    assert sniff_media(head) is None


@pytest.mark.parametrize("raw,shown", [("../../etc/passwd", "passwd"), ("C:\\Users\\me\\clip.mp4", "clip.mp4"),
                                       ("a\x00b\nc.jpg", "abc.jpg"), ("", "upload"), (None, "upload"),
                                       ("/", "upload"), ("x" * 500, "x" * 120)])
def test_display_names_are_only_names(raw, shown):
    assert display_name(raw) == shown


def test_tokens_compare_exactly():
    assert token_matches(None, None) and token_matches("anything", None)
    assert token_matches("s3cret", "s3cret")
    assert not token_matches(None, "s3cret") and not token_matches("s3cre", "s3cret")
    assert request_token({"authorization": "Bearer abc"}, {}) == "abc"
    assert request_token({}, {"token": "q"}) == "q"
    assert request_token({"authorization": "Basic xyz"}, {}) is None


def test_origins():
    assert origin_allowed(None, "127.0.0.1:8000", [])  # not a browser
    assert origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000", [])
    assert not origin_allowed("http://evil.example", "127.0.0.1:8000", [])
    assert origin_allowed("http://app.example", "127.0.0.1:8000", ["http://app.example"])
    assert not origin_allowed("http://127.0.0.1:9000", "127.0.0.1:8000", [])


def _call(mw: BodyLimitMiddleware, messages, headers=()) -> tuple[int, dict, bool]:
    """Run one POST through the middleware; returns (status, json body, whether the app saw the whole body)."""
    sent: list[dict] = []
    seen = {"complete": False}

    async def app(scope, receive, send):
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                break
            if not msg.get("more_body"):
                seen["complete"] = True
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"detail": "app"}'})

    mw.app = app
    queue = list(messages)

    async def receive():
        if not queue:
            await asyncio.sleep(3600)  # a client that stops sending
        item = queue.pop(0)
        return item

    async def send(msg):
        sent.append(msg)

    scope = {"type": "http", "method": "POST", "headers": list(headers)}
    asyncio.run(mw(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
    return status, body, seen["complete"]


def test_body_limit_counts_chunks_and_times_out():
    mw = BodyLimitMiddleware(None, max_bytes=100, timeout_s=0.2)
    chunk = {"type": "http.request", "body": b"x" * 60, "more_body": True}
    last = {"type": "http.request", "body": b"x" * 10, "more_body": False}
    assert _call(mw, [chunk, last]) == (200, {"detail": "app"}, True)
    status, body, complete = _call(mw, [chunk, chunk, last])
    assert (status, complete) == (413, False) and "limit" in body["detail"]
    status, _, _ = _call(mw, [last], headers=[(b"content-length", b"5000")])
    assert status == 413
    status, body, complete = _call(mw, [chunk])  # then silence
    assert (status, complete) == (408, False) and "0.2 s" in body["detail"]


def test_session_cookie_is_signed_expires_and_follows_the_token():
    # Issue 24, item 1: the pages authenticate with a cookie, so the token never goes into an address.
    value = session_value("s3cret", now=1000.0, ttl_s=60)
    assert "s3cret" not in value
    assert session_valid(value, "s3cret", now=1059.0)
    assert not session_valid(value, "s3cret", now=1061.0)  # expired
    assert not session_valid(value, "other", now=1000.0)  # the server's token changed
    assert not session_valid(value[:-1] + ("1" if value.endswith("0") else "0"), "s3cret", now=1000.0)
    assert not session_valid(None, "s3cret") and not session_valid("x.y", "s3cret") and not session_valid("é.é", "s")
    fresh = session_value("s3cret")
    assert authorized({}, {}, {SESSION_COOKIE: fresh}, "s3cret")
    assert authorized({"authorization": "Bearer s3cret"}, {}, {}, "s3cret") and authorized({}, {}, {}, None)
    assert not authorized({}, {}, {SESSION_COOKIE: session_value("other")}, "s3cret")


def test_tokens_in_logged_addresses_are_scrubbed():
    import logging

    assert scrub_token("GET /api/v1/jobs?limit=2&token=s3cret-T0k HTTP/1.1") == \
        "GET /api/v1/jobs?limit=2&token=*** HTTP/1.1"
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/api/v1/live?token=s3cret-T0k", "1.1", 200), None)
    assert TokenScrubFilter().filter(record)
    assert "s3cret" not in record.getMessage() and "/api/v1/live?token=***" in record.getMessage()


def test_the_login_sets_an_httponly_strict_cookie_that_opens_the_api(tmp_path):
    from fastapi.testclient import TestClient

    from emotrace.web.app import create_app
    from emotrace.web.settings import ServerSettings

    client = TestClient(create_app(ServerSettings(data_dir=tmp_path / "data", token="s3cret")))  # no lifespan
    assert client.post("/api/v1/session").status_code == 401
    assert client.post("/api/v1/session", headers={"Authorization": "Bearer wrong"}).status_code == 401
    login = client.post("/api/v1/session", headers={"Authorization": "Bearer s3cret"})
    assert login.status_code == 204
    cookie = login.headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE) and "httponly" in cookie and "samesite=strict" in cookie
    assert "s3cret" not in cookie
    assert client.get("/api/v1/jobs").status_code == 200  # the cookie alone
    client.cookies.clear()
    assert client.get("/api/v1/jobs").status_code == 401
    client.cookies.set(SESSION_COOKIE, session_value("s3cret", now=0.0))  # long expired
    assert client.get("/api/v1/jobs").status_code == 401
