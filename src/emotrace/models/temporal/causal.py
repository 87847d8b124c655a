"""The trained causal temporal stage: an LSTM/GRU stepped once per frame with per-track state (a time-aware one,
`timed.py`, also told the seconds since the track's previous frame). One stage class, `RnnTemporal`; its per-frame
step is a backend object with one call signature: `TorchRnnStep` (the model in PyTorch) or `OnnxRnnStep` (its
ONNX export on ONNX Runtime, so the ONNX pipeline never imports torch; same outputs within float rounding)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from emotrace.models.manifest import verified_file, weight_record
from emotrace.models.temporal.stage import FIRST_DT, TrainedStage, softmax
from emotrace.onnx_session import onnx_session

if TYPE_CHECKING:
    import torch

    from emotrace.models.checkpoint import LoadedModel


class RnnStep(Protocol):
    """One frame of a batch of tracks: embeddings (N, D), intervals dt (N,) (time-aware models only) and each
    track's state (None for a new track) -> the heads as numpy arrays and each track's new state."""

    arch: str
    time_aware: bool
    has_valence_arousal: bool

    def __call__(self, embedding: np.ndarray, dt: np.ndarray | None,
                 states: list[Any]) -> tuple[dict[str, np.ndarray], list[Any]]: ...


class TorchRnnStep:
    """The model's `step` in PyTorch; a track's state is the model's own (tensors)."""

    def __init__(self, model: torch.nn.Module, arch: str, va: bool) -> None:
        self.model, self.arch, self.has_valence_arousal = model, arch, va
        self.time_aware = bool(getattr(model, "time_aware", False))

    def __call__(self, embedding: np.ndarray, dt: np.ndarray | None,
                 states: list[Any]) -> tuple[dict[str, np.ndarray], list[Any]]:
        import torch

        with torch.no_grad():
            if self.time_aware:
                zero = self.model.init_state(1)
                hidden = torch.cat([s if s is not None else zero for s in states])
                res, new = self.model.step(torch.from_numpy(embedding), torch.from_numpy(dt), hidden)
                kept = [new[i:i + 1].clone() for i in range(len(states))]
            else:
                res, new = self.model.step(torch.from_numpy(embedding), self._stack(states))
                kept = [self._select(new, i) for i in range(len(states))]
        return {k: v.numpy() for k, v in res.items()}, kept

    def _stack(self, states: list[Any]) -> Any:
        import torch

        rnn = self.model.rnn
        zeros = torch.zeros(rnn.num_layers, 1, rnn.hidden_size)
        if isinstance(rnn, torch.nn.LSTM):
            hs = [s[0] if s is not None else zeros for s in states]
            cs = [s[1] if s is not None else zeros for s in states]
            return torch.cat(hs, 1), torch.cat(cs, 1)
        return torch.cat([s if s is not None else zeros for s in states], 1)

    @staticmethod
    def _select(state: Any, i: int) -> Any:
        if isinstance(state, tuple):
            return state[0][:, i:i + 1].clone(), state[1][:, i:i + 1].clone()
        return state[:, i:i + 1].clone()


class OnnxRnnStep:
    """A shipped causal model's exported step on ONNX Runtime. A plain LSTM/GRU takes `embedding` and its state (`h`,
    and `c` for an LSTM) and gives the heads and `h_out`/`c_out`; a time-aware one takes `embedding`, `dt` and
    `state`, and gives the heads and `state_out`. A track's state is a dict of numpy arrays. One thread: a step is a
    few small matrix products (0.07 ms on one thread, 0.12 ms on a pool of two)."""

    def __init__(self, weights: str, threads: int = 1) -> None:
        self.arch = weight_record(weights).arch
        self._session = onnx_session(str(verified_file(weights, onnx=True)), threads)
        inputs = {i.name: i.shape for i in self._session.get_inputs()}
        self.time_aware = "dt" in inputs
        self._state_names = ["state"] if self.time_aware else [k for k in ("h", "c") if k in inputs]
        if self.time_aware:
            self._state_shape = {"state": (int(inputs["state"][1]),)}
        else:
            self._state_shape = {k: (int(inputs[k][0]), int(inputs[k][2])) for k in self._state_names}  # layers, hidden
        self._heads = [o.name for o in self._session.get_outputs() if not o.name.endswith("_out")]
        self.has_valence_arousal = "valence_arousal" in self._heads

    def __call__(self, embedding: np.ndarray, dt: np.ndarray | None,
                 states: list[Any]) -> tuple[dict[str, np.ndarray], list[Any]]:
        feeds: dict[str, np.ndarray] = {"embedding": np.ascontiguousarray(embedding, np.float32)}
        axis = 0 if self.time_aware else 1  # (N, S) for a time-aware state, (layers, N, hidden) for an RNN's
        for k in self._state_names:
            zero = np.zeros(self._state_shape[k], np.float32)
            feeds[k] = np.stack([s[k] if s is not None else zero for s in states], axis)
        if dt is not None:
            feeds["dt"] = dt
        names = self._heads + [k + "_out" for k in self._state_names]
        res = dict(zip(names, self._session.run(names, feeds), strict=True))
        kept = [{k: (res[k + "_out"][i] if self.time_aware else res[k + "_out"][:, i]).copy()
                 for k in self._state_names} for i in range(len(states))]
        return {k: res[k] for k in self._heads}, kept


class RnnTemporal(TrainedStage):
    """A trained LSTM/GRU (shipped weights by name, or a training run folder), stepped per frame; all tracks of a
    frame go through `step_fn` in one batch, whichever backend it is."""

    onnx_step = OnnxRnnStep

    def __init__(self, step_fn: RnnStep, name: str, description: str | None = None) -> None:
        self.step_fn = step_fn
        self.name = name
        self.time_aware = step_fn.time_aware
        self.has_valence_arousal = step_fn.has_valence_arousal
        kind = "time-aware " if self.time_aware else ""
        self.description = description or f"trained {kind}{step_fn.arch} over frame embeddings (causal)"
        self._state: dict[int, Any] = {}
        self._last_t: dict[int, float] = {}

    @classmethod
    def from_loaded(cls, loaded: LoadedModel, name: str) -> RnnTemporal:
        """A stage over a model `load_model` gave (so a run folder is read once), on PyTorch."""
        return cls(TorchRnnStep(loaded.model, loaded.arch, "valence_arousal" in loaded.contract.outputs), name)

    @classmethod
    def for_model(cls, model: torch.nn.Module, name: str = "model") -> RnnTemporal:
        """A stage over a model in memory (tests, benchmarks of a model not yet saved)."""
        step = TorchRnnStep(model.eval(), type(model).__name__, getattr(model, "va_head", None) is not None)
        return cls(step, name, f"trained {type(model).__name__} over frame embeddings")

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray,
             ended: Sequence[int] = ()) -> dict[str, np.ndarray]:
        if ended:
            self.drop(list(ended))
        ids = track_ids.tolist()
        dt = (np.array([t - self._last_t[tid] if tid in self._last_t else FIRST_DT for tid in ids], np.float32)
              if self.time_aware else None)
        heads, new = self.step_fn(embedding, dt, [self._state.get(tid) for tid in ids])
        for i, tid in enumerate(ids):
            self._state[tid] = new[i]
            self._last_t[tid] = t
        out = {"probs": softmax(heads["logits"]).astype(np.float32)}
        if "valence_arousal" in heads:
            out["valence_arousal"] = heads["valence_arousal"].astype(np.float32)
        return out
