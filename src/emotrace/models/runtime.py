"""Runs a frame model on aligned crops with PyTorch or ONNX Runtime, behind one call.

ONNX Runtime is the default where a shipped .onnx exists: on a small CPU it runs these convolutions faster than
eager PyTorch. Both paths take the same uint8 crops and return the same probabilities (checked by a test).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emotrace.errors import EmotraceError
from emotrace.labels import EMOTIONS
from emotrace.models.manifest import WeightRecord, default_model, manifest, verified_file, weight_record
from emotrace.onnx_session import onnx_session

if TYPE_CHECKING:
    pass

log = logging.getLogger("emotrace")


def default_frame_model() -> str:
    """The shipped frame weights marked default in the manifest."""
    name = default_model("frame")
    if name is None:
        raise EmotraceError("no shipped frame model is marked default (package damaged?)")
    return name


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class FrameModelRunner:
    """Shipped frame model `name` (or `default`) on `runtime` torch | onnx | auto."""

    def __init__(self, name: str = "default", runtime: str = "auto", threads: int = 0) -> None:
        self.name = default_frame_model() if name == "default" else name
        self.record: WeightRecord | None = None
        if self.name not in manifest() and Path(self.name).expanduser().exists():
            # A training run folder or checkpoint, tried before it is shipped: PyTorch only, uncalibrated.
            from emotrace.models.checkpoint import load_model

            loaded = load_model(self.name)
            c = loaded.contract
            if c.kind != "image" or c.channels != 1 or "logits" not in c.outputs:
                raise EmotraceError(f"{self.name} is not a frame model (a {loaded.task} run on {c.kind} input, "
                                    f"{c.channels} channel(s))")
            if "embedding" not in c.outputs:  # a seed still model (classify task): logits and features()
                loaded.model = seed_frame_model(loaded.model)
            contract, self.temperature, self.metrics = c, 1.0, {}
            if runtime == "onnx":
                raise EmotraceError(f"{self.name} is a training run: it runs with --runtime torch")
            runtime = "torch"
        else:
            rec = weight_record(self.name)
            self.record = rec
            contract, self.temperature, self.metrics = rec.contract, rec.temperature, rec.metrics
        # A model may have outputs beyond the seven emotions (FER+ contempt): they are folded away here, so that
        # every stage after the frame model speaks the same seven classes.
        model_classes = list(contract.classes)
        missing = [c for c in EMOTIONS if c not in model_classes]
        if missing:
            raise EmotraceError(f"model {self.name} lacks classes {missing}; it cannot drive the pipeline")
        self._keep = np.array([model_classes.index(c) for c in EMOTIONS])
        self.classes: list[str] = list(EMOTIONS)
        self.input_size = int(contract.size or 0)
        self.embedding_dim = int(contract.embedding_dim or 0)
        self._va = "valence_arousal" in contract.outputs
        if runtime == "auto":
            runtime = "onnx" if self.record is not None and self.record.onnx_file and _has_onnxruntime() else "torch"
        self.runtime = runtime
        if runtime == "onnx":
            if self.record is None or not self.record.onnx_file:
                raise EmotraceError(f"model {self.name} ships no ONNX file; use --runtime torch")
            self._session = onnx_session(str(verified_file(self.name, onnx=True)), threads)
        elif runtime == "torch":
            import torch  # only here: the ONNX path never pays torch's import (about 1.6 s on a small CPU)

            from emotrace.models.factory import create_model

            if threads:
                torch.set_num_threads(threads)
            self._model = loaded.model if self.record is None else create_model(self.name, pretrained=True)
        else:
            raise EmotraceError(f"unknown runtime {runtime!r} (torch, onnx or auto)")

    @property
    def has_valence_arousal(self) -> bool:
        return self._va

    def __call__(self, crops: np.ndarray) -> dict[str, np.ndarray]:
        """crops (N, S, S) uint8 -> {'probs': (N, 7), 'embedding': (N, D)} float32, plus 'valence_arousal' (N, 2)
        where the model has that head."""
        if len(crops) == 0:
            empty = {"probs": np.zeros((0, len(self.classes)), np.float32),
                     "embedding": np.zeros((0, self.embedding_dim), np.float32)}
            if self.has_valence_arousal:
                empty["valence_arousal"] = np.zeros((0, 2), np.float32)
            return empty
        x = (crops.astype(np.float32) / 255.0)[:, None]
        names = ["logits", "embedding"] + (["valence_arousal"] if self.has_valence_arousal else [])
        if self.runtime == "onnx":
            raw = dict(zip(names, self._session.run(names, {"crops": x}), strict=True))
        else:
            import torch

            with torch.inference_mode():
                out = self._model(torch.from_numpy(x))
            raw = {k: out[k].numpy() for k in names}
        probs = softmax(raw["logits"] / self.temperature)[:, self._keep]
        probs /= probs.sum(1, keepdims=True)
        res = {"probs": probs.astype(np.float32), "embedding": raw["embedding"].astype(np.float32)}
        if "valence_arousal" in raw:
            res["valence_arousal"] = raw["valence_arousal"].astype(np.float32)
        return res

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "runtime": self.runtime, "classes": self.classes,
                "metrics": self.metrics, "temperature": self.temperature}


def seed_frame_model(model: Any) -> Any:
    """A seed still model (`forward(x, return_features=True)` -> (logits, features)) in the frame models' dict
    form, so a classify run on gray stills (seed 4's CNN, seed 3's CNN-LSTM) drives the pipeline."""
    import torch

    class SeedFrameModel(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner.eval()

        def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
            logits, emb = self.inner(x, return_features=True)
            return {"logits": logits, "embedding": emb}

    return SeedFrameModel(model).eval()


def _has_onnxruntime() -> bool:
    try:
        import onnxruntime  # noqa: F401

        return True
    except ImportError:
        return False
