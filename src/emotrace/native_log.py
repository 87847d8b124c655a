"""Native libraries (FFmpeg inside OpenCV, OpenCV itself, MediaPipe's glog/absl) print straight to file descriptor
2, past Python's logging, so `-q` cannot hold them back. These helpers turn their levels down and, for a command
run in the terminal, route descriptor 2 into a pipe whose lines become `emotrace` debug log records (shown with
`-v`); Python's own `sys.stderr` keeps the real terminal, so errors, warnings and progress bars are untouched."""

from __future__ import annotations

import collections
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("emotrace")

# Environment read by the libraries when they load: glog (MediaPipe) and TensorFlow Lite, which print start-up
# chatter even under --debug; and OpenCV's log level and FFmpeg's level inside OpenCV (-8 = AV_LOG_QUIET), which
# --debug leaves on.
MEDIAPIPE_QUIET_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}
QUIET_ENV = {"OPENCV_LOG_LEVEL": "ERROR", "OPENCV_FFMPEG_LOGLEVEL": "-8", **MEDIAPIPE_QUIET_ENV}


def quiet_native_env(environ: dict[str, str] | None = None, only: dict[str, str] = QUIET_ENV) -> None:
    """Turn the native libraries' own logging down (a value the user set is kept); `only=MEDIAPIPE_QUIET_ENV` for
    a process that loads MediaPipe (a worker, the detector) and must leave OpenCV's level to the command."""
    env = os.environ if environ is None else environ
    for k, v in only.items():
        env.setdefault(k, v)


@contextmanager
def capture_native_stderr(keep: int = 200) -> Iterator[collections.deque[str]]:
    """Inside the block, what native code writes to descriptor 2 is logged at debug level instead of printed;
    yields the last `keep` such lines. Child processes started inside inherit the pipe too."""
    lines: collections.deque[str] = collections.deque(maxlen=keep)
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        read_fd, write_fd = os.pipe()
    except (OSError, ValueError):  # no descriptor 2 (embedded interpreter): nothing to capture
        yield lines
        return
    old_stderr = sys.stderr
    try:
        swap = old_stderr.fileno() == 2  # the real stderr (not a test's capture): keep it on the terminal
    except (AttributeError, OSError, ValueError):
        swap = False
    if swap:
        sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, errors="backslashreplace",
                               encoding=getattr(old_stderr, "encoding", None) or "utf-8")
        for h in logging.getLogger().handlers + log.handlers:
            if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is old_stderr:
                h.setStream(sys.stderr)
    os.dup2(write_fd, 2)
    os.close(write_fd)

    def drain() -> None:
        with os.fdopen(read_fd, "rb") as fh:
            for raw in fh:
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    lines.append(line)
                    log.debug("native: %s", line)

    reader = threading.Thread(target=drain, name="emotrace-native-log", daemon=True)
    reader.start()
    try:
        yield lines
    finally:
        os.dup2(saved, 2)  # closes the pipe's last write end held by descriptor 2: the reader sees EOF
        os.close(saved)
        reader.join(timeout=5)
        if swap:
            captured, sys.stderr = sys.stderr, old_stderr
            for h in logging.getLogger().handlers + log.handlers:
                if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is captured:
                    h.setStream(old_stderr)
            captured.close()
