"""One live WebSocket session: frames in (binary JPEG/PNG/WebP), faces with track ids and emotions out (JSON).

Each connection has its own Analyzer, hence its own tracker and temporal state. The browser sends a frame only
after the answer to the previous one arrived, so the frame rate follows what the server keeps up with and no
queue builds up; a client that floods is slowed by WebSocket flow control, since frames are processed one at a time.

Text messages: `{"type": "reset"}` starts the tracks afresh; `{"type": "config", "signals": N}` switches the
session's face signals (every Nth frame of each face, 0 off, null the server's `--signals`), as the upload form's
choice does for a job: the session takes an analyzer of that config (tracks start afresh) and says `ready` again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from emotrace.errors import EmotraceError
from emotrace.web.settings import ServerSettings

log = logging.getLogger("emotrace")

CLOSE_TRY_AGAIN_LATER = 1013  # the WebSocket counterpart of HTTP 503
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


class FrameError(ValueError):
    """A frame that cannot be analysed (not an image, too large); the session goes on."""


class AnalyzerPool:
    """Analyzers kept warm between connections (the first one costs seconds of imports and model loading), up to
    `keep` per face-signals setting: a session may ask for its own (`config` message), the rest is the server's."""

    def __init__(self, config: Any, keep: int) -> None:
        """`config`: an AnalyzerConfig or its fields; every analyzer gets its own copy (web.config)."""
        self.config, self.keep = config, keep
        self._free: dict[int, list[Any]] = {}
        self._lock = threading.Lock()

    def acquire(self, signals: int | None = None) -> Any:
        """An analyzer of the server's config, with `signals` overridden where given."""
        from emotrace.web.config import job_config

        cfg = job_config(self.config, signals)
        with self._lock:
            free = self._free.get(cfg.signals)
            if free:
                return free.pop()
        from emotrace.pipeline import Analyzer

        return Analyzer(cfg, batch_frames=1)

    def release(self, analyzer: Any) -> None:
        analyzer.reset()
        with self._lock:
            free = self._free.setdefault(int(analyzer.config.signals), [])
            if len(free) < self.keep:
                free.append(analyzer)
                return
        analyzer.close()

    def warm(self) -> None:
        """Load one analyzer now (called at startup, in a thread)."""
        self.release(self.acquire())


class SocketGate:
    """Counts open sessions on the event loop (one thread, so no lock); past `limit` new ones are refused."""

    def __init__(self, limit: int) -> None:
        self.limit, self.open = limit, 0

    def try_enter(self) -> bool:
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open = max(0, self.open - 1)


def result_message(res: Any, classes: list[str], seq: int, server_ms: float, with_va: bool,
                   with_signals: bool = False) -> dict[str, Any]:
    """The JSON answer for one frame: every face as its table row's face fields (same names and precision as the
    table outputs: `x1..y2`, `det_score`, `label`, `label_prob`, `frame_*`, `temporal_*`, ...)."""
    h, w = res.frame.image.shape[:2]
    return {"type": "result", "seq": seq, "width": int(w), "height": int(h), "detected": bool(res.detected),
            "server_ms": round(server_ms, 2),
            "faces": [r.fields(classes, with_va, with_signals) for r in res.records()]}


class LiveSession:
    """Decodes and analyses the frames of one connection in order; timestamps are the server's arrival times."""

    def __init__(self, analyzer: Any, max_side: int) -> None:
        self.analyzer, self.max_side = analyzer, max_side
        self.reset()

    def reset(self) -> None:
        self.analyzer.reset()
        self.t0 = time.monotonic()
        self.seq = 0

    def process(self, data: bytes) -> dict[str, Any]:
        import cv2

        from emotrace.types import Frame

        self.seq += 1
        t = time.perf_counter()
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        if img is None:
            raise FrameError(f"frame {self.seq} is not a decodable JPEG, PNG or WebP image")
        h, w = img.shape[:2]
        if max(h, w) > self.max_side:
            raise FrameError(f"frame {self.seq} is {w}x{h}; the limit is {self.max_side} px a side")
        frame = Frame(index=self.seq - 1, timestamp=time.monotonic() - self.t0, image=img, source="live")
        res = self.analyzer.process_frame(frame)
        return result_message(res, self.analyzer.classes, self.seq, (time.perf_counter() - t) * 1000,
                              self.analyzer.has_valence_arousal, self.analyzer.signals is not None)


def _text_message(text: str) -> dict[str, Any] | None:
    """A client's text message as a dict with a `type`, or None."""
    try:
        msg = json.loads(text)
    except ValueError:
        return None
    return msg if isinstance(msg, dict) and isinstance(msg.get("type"), str) else None


def config_signals(msg: dict[str, Any]) -> int | None:
    """A `config` message's face-signals choice (None: the server's), or ValueError with one line."""
    from emotrace.web.schemas import MAX_SIGNALS

    value = msg.get("signals")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SIGNALS:
        raise ValueError(f"signals must be a whole number from 0 to {MAX_SIGNALS} (0: off, N: every Nth frame of "
                         f"each face) or null for the server's setting; got {str(value)[:40]!r}")
    return value


def ready_message(analyzer: Any, settings: ServerSettings) -> dict[str, Any]:
    """What a session says when it starts and after each `config`: its classes, its face-signals setting and
    the limits a client keeps to."""
    return {"type": "ready", "classes": list(analyzer.classes), "signals": int(getattr(analyzer.config, "signals", 0)),
            "max_frame_bytes": settings.max_frame_bytes, "max_frame_side": settings.max_frame_side,
            "idle_timeout_s": settings.ws_idle_s}


async def run_session(ws: Any, settings: ServerSettings, gate: SocketGate, pool: AnalyzerPool,
                      authorized: Callable[[], bool]) -> None:
    """Serve one accepted-or-refused WebSocket until the client leaves, idles out or breaks a limit."""
    from starlette.websockets import WebSocketDisconnect

    await ws.accept()

    async def refuse(status: int, detail: str, code: int) -> None:
        await ws.send_json({"type": "error", "status": status, "detail": detail})
        await ws.close(code=code, reason=detail[:120])

    if not authorized():
        await refuse(401, "missing or wrong API token (log in on a page, or Authorization: Bearer TOKEN)",
                     CLOSE_POLICY)
        return
    if not gate.try_enter():
        await refuse(503, f"server busy: {gate.limit} live sessions already open, try again later",
                     CLOSE_TRY_AGAIN_LATER)
        return
    analyzer = None
    try:
        analyzer = await asyncio.to_thread(pool.acquire)
        session = LiveSession(analyzer, settings.max_frame_side)
        await ws.send_json(ready_message(analyzer, settings))
        while True:
            try:
                msg = await asyncio.wait_for(ws.receive(), settings.ws_idle_s)
            except asyncio.TimeoutError:
                await refuse(408, f"no frame for {settings.ws_idle_s:g} s; closing", 1000)
                return
            if msg["type"] == "websocket.disconnect":
                return
            data, text = msg.get("bytes"), msg.get("text")
            if data is not None:
                if len(data) > settings.max_frame_bytes:
                    await refuse(413, f"frame of {len(data)} bytes; the limit is {settings.max_frame_bytes}",
                                 CLOSE_TOO_BIG)
                    return
                try:
                    reply = await asyncio.to_thread(session.process, data)
                except FrameError as exc:
                    reply = {"type": "error", "status": 400, "detail": str(exc)}
                await ws.send_json(reply)
                continue
            command = _text_message(text) if text is not None else None
            kind = command["type"] if command else None
            if kind == "reset":
                session.reset()
                await ws.send_json({"type": "reset"})
            elif kind == "config" and command is not None:
                try:
                    signals = config_signals(command)
                    new = await asyncio.to_thread(pool.acquire, signals)
                except (ValueError, EmotraceError) as exc:  # `config`: the client knows it was no frame's answer
                    await ws.send_json({"type": "error", "status": 400, "detail": str(exc), "config": True})
                    continue  # the session goes on as it was
                await asyncio.to_thread(pool.release, analyzer)
                analyzer = new
                session = LiveSession(analyzer, settings.max_frame_side)
                await ws.send_json(ready_message(analyzer, settings))
            else:
                await ws.send_json({"type": "error", "status": 400, "config": True,
                                    "detail": 'send frames as binary JPEG/PNG/WebP messages, {"type":"reset"} or '
                                              '{"type":"config","signals":N}'})
    except (WebSocketDisconnect, OSError, RuntimeError):  # the client went away mid-send
        pass
    finally:
        gate.leave()
        if analyzer is not None:
            await asyncio.to_thread(pool.release, analyzer)
