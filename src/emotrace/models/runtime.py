"""Runs a frame model on aligned crops with PyTorch or ONNX Runtime, behind one call.

ONNX Runtime is the default where a shipped .onnx exists: on a small CPU it runs these convolutions faster than
eager PyTorch. Both paths take the same uint8 crops and return the same probabilities (checked by a test).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from emotrace.errors import EmotraceError
from emotrace.models.registry import create_model, verified_file, weight_record

log = logging.getLogger("emotrace")

DEFAULT_FRAME_MODEL = "emotrace-cnn-s-ferplus"


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class FrameModelRunner:
    """Shipped frame model `name` (or `default`) on `runtime` torch | onnx | auto."""

    def __init__(self, name: str = "default", runtime: str = "auto", threads: int = 0) -> None:
        self.name = DEFAULT_FRAME_MODEL if name == "default" else name
        rec = weight_record(self.name)
        self.record = rec
        self.classes: list[str] = list(rec["classes"])
        self.input_size = int(rec["input_size"])
        self.embedding_dim = int(rec["embedding_dim"])
        if runtime == "auto":
            runtime = "onnx" if rec.get("onnx_file") and _has_onnxruntime() else "torch"
        self.runtime = runtime
        if runtime == "onnx":
            import onnxruntime as ort

            if not rec.get("onnx_file"):
                raise EmotraceError(f"model {self.name} ships no ONNX file; use --runtime torch")
            opts = ort.SessionOptions()
            if threads:
                opts.intra_op_num_threads = threads
            opts.log_severity_level = 3
            self._session = ort.InferenceSession(str(verified_file(self.name, "onnx_file")), opts,
                                                 providers=["CPUExecutionProvider"])
        elif runtime == "torch":
            if threads:
                torch.set_num_threads(threads)
            self._model = create_model(self.name, pretrained=True)
        else:
            raise EmotraceError(f"unknown runtime {runtime!r} (torch, onnx or auto)")

    def __call__(self, crops: np.ndarray) -> dict[str, np.ndarray]:
        """crops (N, S, S) uint8 -> {'probs': (N, C), 'embedding': (N, D)} float32."""
        if len(crops) == 0:
            return {"probs": np.zeros((0, len(self.classes)), np.float32),
                    "embedding": np.zeros((0, self.embedding_dim), np.float32)}
        x = (crops.astype(np.float32) / 255.0)[:, None]
        if self.runtime == "onnx":
            logits, emb = self._session.run(["logits", "embedding"], {"crops": x})
        else:
            with torch.inference_mode():
                out = self._model(torch.from_numpy(x))
            logits, emb = out["logits"].numpy(), out["embedding"].numpy()
        return {"probs": softmax(logits).astype(np.float32), "embedding": emb.astype(np.float32)}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "runtime": self.runtime, "classes": self.classes,
                "metrics": self.record.get("metrics", {})}


def _has_onnxruntime() -> bool:
    try:
        import onnxruntime  # noqa: F401

        return True
    except ImportError:
        return False


def export_onnx(model: torch.nn.Module, path: str, input_size: int = 48) -> None:
    """Export a frame model with a dynamic batch axis; outputs are named `logits` and `embedding`."""
    model.eval()
    x = torch.rand(2, 1, input_size, input_size)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), path, input_names=["crops"], output_names=["logits", "embedding"],
                          dynamic_axes={"crops": {0: "n"}, "logits": {0: "n"}, "embedding": {0: "n"}},
                          opset_version=17, dynamo=False)
