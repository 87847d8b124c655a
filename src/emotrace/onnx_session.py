"""One way to open an ONNX Runtime CPU session, for every shipped network (frame, temporal, face descriptor).

Its worker threads sleep between runs instead of spinning: the detector, the decoder and the other networks share
the same few cores, and a spinning pool took their time (see docs/benchmarks.md). `EMOTRACE_ORT_SPIN=1` turns
spinning back on for measurements.
"""

from __future__ import annotations

import os
from typing import Any


def onnx_session(path: str, threads: int = 0) -> Any:
    """An ONNX Runtime CPU session on `path` with `threads` intra-op threads (0: the library's default)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    if os.environ.get("EMOTRACE_ORT_SPIN", "0") != "1":
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
