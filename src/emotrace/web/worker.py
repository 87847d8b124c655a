"""The job worker: a child process of the server that loads the pipeline once and analyses one job per line.

Jobs run in their own process so that a timeout or a deletion can stop one for certain (a thread cannot be
killed), a decoder crash cannot take the server down, and the analysis does not hold the server's GIL.

Protocol: the parent writes one JSON object per line on stdin ({"input", "out", "name", "config"}: `config` is the
job's analyzer config in web.config's JSON form, the server's with the job's own `signals`); the worker answers
with JSON lines on its original stdout: {"event": "ready"} once, then per job "start" (total frames, may be null),
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
KEEP_ANALYZERS = 2  # the server's config and one other (a job's signals choice): two models in memory at most


class Analyzers:
    """The worker's analyzers by config, built on first use and kept, so jobs alternating between signals on and
    off do not reload the models each time; past `keep` the least recently used one is closed."""

    def __init__(self, keep: int = KEEP_ANALYZERS) -> None:
        self.keep = keep
        self._by_config: dict[str, Any] = {}  # canonical config JSON -> Analyzer, least recently used first

    def get(self, text: str) -> Any:
        """The analyzer for a config in web.config's JSON form (raises for a config that cannot be built)."""
        from emotrace.pipeline import Analyzer
        from emotrace.web.config import config_from_json, config_json

        cfg = config_from_json(text)
        key = config_json(cfg)
        analyzer = self._by_config.pop(key, None)
        if analyzer is None:
            analyzer = Analyzer(cfg)
            while len(self._by_config) >= self.keep:
                self._by_config.pop(next(iter(self._by_config))).close()
        self._by_config[key] = analyzer
        return analyzer


def _user_message(exc: BaseException) -> str:
    from emotrace.errors import EmotraceError

    if isinstance(exc, EmotraceError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f": {Path(str(exc.filename)).name}" if exc.filename else "")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"


def run_job(analyzer: Any, job: dict[str, Any], emit: Any) -> None:
    """Analyse one input into `job["out"]` with every output; report progress, then done or error.

    Reports name the upload as the user knows it (`job["name"]`), never the server's path; an image also gets
    `annotated.png`; `done` carries warnings a user should see (truncated input, no face found)."""
    from emotrace.api import run
    from emotrace.outputs import WEB_OUTPUTS, build_sinks
    from emotrace.sources import open_source

    name = str(job.get("name") or Path(job["input"]).name)

    def fail(exc: BaseException) -> None:  # the stored input's path would show the server's folders to the client
        emit({"event": "error", "message": _user_message(exc).replace(str(job["input"]), name)})

    try:
        src = open_source(job["input"])
    except Exception as exc:  # unreadable media: the job fails with one line, the worker lives on
        fail(exc)
        return
    src.name = name
    emit({"event": "start", "total": src.frame_count})
    state: dict[str, Any] = {"n": 0, "last": 0.0, "faces": 0, "result": None}

    def progress(res: Any) -> None:
        state["n"] += 1
        state["faces"] += len(res.faces)
        state["result"] = res
        now = time.monotonic()
        if now - state["last"] >= PROGRESS_EVERY_S:
            state["last"] = now
            emit({"event": "progress", "frames": state["n"]})

    try:
        written = run(src, analyzer, build_sinks(job["out"], WEB_OUTPUTS), on_result=progress)
        if state["n"] == 1 and state["result"] is not None:
            written.append(_annotated_image(state["result"], analyzer.classes, Path(job["out"])))
    except Exception as exc:
        fail(exc)
        return
    warnings = []
    if src.incomplete:
        warnings.append(f"{src.incomplete}; results cover the frames read")
    if state["faces"] == 0:
        warnings.append("no face found" + (" in the image" if state["n"] == 1 else f" in {state['n']} frames"))
    emit({"event": "done", "frames": state["n"], "outputs": sorted(p.name for p in written), "warnings": warnings})


def _annotated_image(result: Any, classes: list[str], out: Path) -> Path:
    """An image job's annotated frame as a PNG (a one-frame video shows as a 0:00 clip)."""
    import cv2

    from emotrace.outputs import output_file
    from emotrace.sinks.draw import draw_result

    final = out / output_file("image")
    tmp = final.with_name(f".{final.name}.part")
    ok, data = cv2.imencode(".png", draw_result(result.frame.image, result, classes))
    if not ok:
        raise RuntimeError("could not encode the annotated image")
    tmp.write_bytes(data.tobytes())
    os.replace(tmp, final)
    return final


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    channel: TextIO = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol

    def emit(event: dict[str, Any]) -> None:
        channel.write(json.dumps(event) + "\n")
        channel.flush()

    analyzers = Analyzers()
    try:
        from emotrace.provenance import set_command
        from emotrace.web.config import config_json

        set_command(["python", "-m", "emotrace.web.worker"])  # the config is in the provenance; no server paths

        server_config = args[0] if args else config_json(None)
        analyzers.get(server_config)  # loaded before "ready": the first job waits for no model
    except Exception as exc:
        emit({"event": "fatal", "message": _user_message(exc)})
        return 2
    emit({"event": "ready"})
    for line in sys.stdin:
        if line.strip():
            job = json.loads(line)
            try:
                analyzer = analyzers.get(job.get("config") or server_config)
            except Exception as exc:  # this job's config cannot be built: it fails, the worker lives on
                emit({"event": "error", "message": _user_message(exc)})
                continue
            run_job(analyzer, job, emit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
