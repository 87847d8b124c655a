"""The temporal-stage protocol: what the pipeline calls per track (step, drop, settle, reset), and what every
stage says of itself (`name`, `description`, `mode`, `delay_s`), so outputs never present smoothing as an LSTM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities of a stage's logits (the stages' own, so a step never calls back into the frame runtime)."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


FIRST_DT = 1.0 / 30.0  # the interval a time-aware model is told at a track's first frame (its state is zero then)


class TemporalStage:
    """Turns a frame's per-face probabilities/embeddings into temporally consistent probabilities, per track."""

    name = "none"
    description = ""
    has_valence_arousal = False  # whether step() returns valence/arousal too
    mode = "causal"  # causal: an output depends on past frames only; offline: on up to `delay_s` of later ones
    delay_s = 0.0  # how late a step's outputs may still change (filled in place); 0 for causal stages

    def settle(self, before_t: float) -> None:
        """Make final every output of frames at or before `before_t` (offline stages)."""

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray,
             ended: Sequence[int] = ()) -> dict[str, np.ndarray]:
        """Outputs for one frame's faces; `ended` tracks are dropped first (`drop`), in the same call, so a frame's
        way enters the stage once for its step."""
        raise NotImplementedError

    def drop(self, track_ids: list[int]) -> None:
        """Forget the state of tracks that ended: every per-track dict the stage keeps (`_state`, `_last_t`)."""
        for table in self._tables():
            for tid in track_ids:
                table.pop(tid, None)

    def reset(self) -> None:
        """Forget every track."""
        for table in self._tables():
            table.clear()

    def _tables(self) -> list[dict]:
        return [t for t in (getattr(self, "_state", None), getattr(self, "_last_t", None)) if isinstance(t, dict)]


class TrainedStage(TemporalStage):
    """A stage around a trained model, whose per-frame step runs on ONNX Runtime (`onnx_step`, shipped weights with
    an export) or PyTorch (`from_loaded`, also for run folders)."""

    onnx_step: Any = None  # the ONNX Runtime step class: built from a shipped weights name

    @classmethod
    def load(cls, weights: str, onnx: bool = False) -> TrainedStage:
        """Shipped weights or a run folder, on ONNX Runtime (`onnx`: shipped weights with an export) or PyTorch."""
        if onnx:
            return cls(cls.onnx_step(weights), weights)  # type: ignore[call-arg]
        from emotrace.models.checkpoint import load_model

        return cls.from_loaded(load_model(weights), weights)

    @classmethod
    def from_loaded(cls, loaded: Any, name: str) -> TrainedStage:
        """A stage over a model `load_model` gave (so a run folder is read once), on PyTorch."""
        raise NotImplementedError
