"""The job worker: a child process of the server that loads the pipeline once and analyses one job per line.

Jobs run in their own process so that a timeout or a deletion can stop one for certain (a thread cannot be
killed), a decoder crash cannot take the server down, and the analysis does not hold the server's GIL.

Protocol: the parent writes one JSON object per line on stdin ({"input", "out"}); the worker answers with JSON
lines on its original stdout: {"event": "ready"} once, then per job "start" (total frames, may be null),
"progress" (frames so far), and "done" (output file names) or "error" (one line for the user).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

PROGRESS_EVERY_S = 0.3


def _user_message(exc: BaseException) -> str:
    from emotrace.errors import EmotraceError

    if isinstance(exc, EmotraceError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f": {Path(str(exc.filename)).name}" if exc.filename else "")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"


def run_job(analyzer: Any, job: dict[str, Any], emit: Any) -> None:
    """Analyse one input into `job["out"]` with every output; report progress, then done or error."""
    from emotrace.api import run
    from emotrace.outputs import WEB_OUTPUTS, build_sinks
    from emotrace.sources import open_source

    try:
        src = open_source(job["input"])
    except Exception as exc:  # unreadable media: the job fails with one line, the worker lives on
        emit({"event": "error", "message": _user_message(exc)})
        return
    emit({"event": "start", "total": src.frame_count})
    state = {"n": 0, "last": 0.0}

    def progress(_: Any) -> None:
        state["n"] += 1
        now = time.monotonic()
        if now - state["last"] >= PROGRESS_EVERY_S:
            state["last"] = now
            emit({"event": "progress", "frames": state["n"]})

    try:
        written = run(src, analyzer, build_sinks(job["out"], WEB_OUTPUTS), on_result=progress)
    except Exception as exc:
        emit({"event": "error", "message": _user_message(exc)})
        return
    emit({"event": "done", "frames": state["n"], "outputs": sorted(p.name for p in written)})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    channel: TextIO = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol

    def emit(event: dict[str, Any]) -> None:
        channel.write(json.dumps(event) + "\n")
        channel.flush()

    try:
        from emotrace.pipeline import Analyzer, AnalyzerConfig

        analyzer = Analyzer(AnalyzerConfig(**(json.loads(args[0]) if args else {})))
    except Exception as exc:
        emit({"event": "fatal", "message": _user_message(exc)})
        return 2
    emit({"event": "ready"})
    for line in sys.stdin:
        if line.strip():
            run_job(analyzer, json.loads(line), emit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
