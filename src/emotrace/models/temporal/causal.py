"""Trained causal temporal stages: an LSTM/GRU from the registry stepped once per frame with per-track state (a
time-aware one, `timed.py`, also told the seconds since the track's previous frame), on PyTorch (`RnnTemporal`) or
as its ONNX export's step (`OnnxRnnTemporal`, so the ONNX pipeline never imports torch; same outputs within float
rounding)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from emotrace.models.manifest import verified_file, weight_record
from emotrace.models.runtime import onnx_session, softmax
from emotrace.models.temporal.stage import FIRST_DT, TemporalStage

if TYPE_CHECKING:
    import torch


class RnnTemporal(TemporalStage):
    """A trained LSTM/GRU (shipped weights by name, or a training run folder), stepped per frame; all tracks of a
    frame go through in one batch."""

    def __init__(self, weights: str) -> None:
        from emotrace.models.checkpoint import load_model

        loaded = load_model(weights)
        self._bind(loaded.model, weights, "valence_arousal" in loaded.contract.outputs)
        kind = "time-aware " if self.time_aware else ""
        self.description = f"trained {kind}{loaded.arch} over frame embeddings (causal)"

    @classmethod
    def for_model(cls, model: torch.nn.Module, name: str = "model") -> RnnTemporal:
        """A stage over a model in memory (tests, benchmarks of a model not yet saved)."""
        stage = cls.__new__(cls)
        stage._bind(model.eval(), name, getattr(model, "va_head", None) is not None)
        return stage

    def _bind(self, model: torch.nn.Module, name: str, va: bool) -> None:
        self.name = name
        self.description = f"trained {type(model).__name__} over frame embeddings"
        self.has_valence_arousal = va
        self.model = model
        self.time_aware = bool(getattr(model, "time_aware", False))
        self._state: dict[int, object] = {}
        self._last_t: dict[int, float] = {}

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray) -> dict[str, np.ndarray]:
        import torch

        ids = track_ids.tolist()
        states = [self._state.get(tid) for tid in ids]
        if self.time_aware:
            dt = torch.tensor([t - self._last_t[tid] if tid in self._last_t else FIRST_DT for tid in ids],
                              dtype=torch.float32)
            zero = self.model.init_state(1)
            hidden = torch.cat([s if s is not None else zero for s in states])  # type: ignore[misc]
            res, new = self.model.step(torch.from_numpy(embedding), dt, hidden)
            for i, tid in enumerate(ids):
                self._state[tid] = new[i:i + 1].clone()
                self._last_t[tid] = t
        else:
            hidden = self._stack(states, len(ids))
            res, new = self.model.step(torch.from_numpy(embedding), hidden)
            for i, tid in enumerate(ids):
                self._state[tid] = self._select(new, i)
        out = {"probs": softmax(res["logits"].numpy()).astype(np.float32)}
        if "valence_arousal" in res:
            out["valence_arousal"] = res["valence_arousal"].numpy()
        return out

    def _stack(self, states: list[object], n: int) -> object:
        import torch

        rnn = self.model.rnn
        zeros = torch.zeros(rnn.num_layers, 1, rnn.hidden_size)
        if isinstance(rnn, torch.nn.LSTM):
            hs = [s[0] if s is not None else zeros for s in states]  # type: ignore[index]
            cs = [s[1] if s is not None else zeros for s in states]  # type: ignore[index]
            return torch.cat(hs, 1), torch.cat(cs, 1)
        return torch.cat([s if s is not None else zeros for s in states], 1)  # type: ignore[misc]

    @staticmethod
    def _select(state: object, i: int) -> object:
        if isinstance(state, tuple):
            return state[0][:, i:i + 1].clone(), state[1][:, i:i + 1].clone()
        return state[:, i:i + 1].clone()  # type: ignore[index]


class OnnxRnnTemporal(TemporalStage):
    """A shipped causal model's exported step on ONNX Runtime, so the ONNX pipeline never imports torch. A plain
    LSTM/GRU takes `embedding` and its state (`h`, and `c` for an LSTM) and gives the heads and `h_out`/`c_out`; a
    time-aware one (`models/temporal/timed.py`) takes `embedding`, `dt` (seconds since the track's previous frame,
    FIRST_DT at its first) and `state`, and gives the heads and `state_out`. Per-track state is a numpy array. One
    thread: a step is a few small matrix products (0.07 ms on one thread, 0.12 ms on a pool of two)."""

    def __init__(self, weights: str, threads: int = 1) -> None:
        rec = weight_record(weights)
        self.name = weights
        self._session = onnx_session(str(verified_file(weights, onnx=True)), threads)
        inputs = {i.name: i.shape for i in self._session.get_inputs()}
        self.time_aware = "dt" in inputs
        self._state_names = ["state"] if self.time_aware else [k for k in ("h", "c") if k in inputs]
        if self.time_aware:
            self._state_shape = {"state": (int(inputs["state"][1]),)}
        else:
            self._state_shape = {k: (int(inputs[k][0]), int(inputs[k][2])) for k in self._state_names}  # layers, hidden
        kind = "time-aware " if self.time_aware else ""
        self.description = f"trained {kind}{rec.arch} over frame embeddings (causal)"
        self._heads = [o.name for o in self._session.get_outputs() if not o.name.endswith("_out")]
        self.has_valence_arousal = "valence_arousal" in self._heads
        self._state: dict[int, dict[str, np.ndarray]] = {}
        self._last_t: dict[int, float] = {}

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray) -> dict[str, np.ndarray]:
        ids = track_ids.tolist()
        feeds: dict[str, np.ndarray] = {"embedding": np.ascontiguousarray(embedding, np.float32)}
        axis = 0 if self.time_aware else 1  # (N, S) for a time-aware state, (layers, N, hidden) for an RNN's
        for k in self._state_names:
            zero = np.zeros(self._state_shape[k], np.float32)
            feeds[k] = np.stack([self._state[tid][k] if tid in self._state else zero for tid in ids], axis)
        if self.time_aware:
            feeds["dt"] = np.array([t - self._last_t[tid] if tid in self._last_t else FIRST_DT for tid in ids],
                                   np.float32)
        names = self._heads + [k + "_out" for k in self._state_names]
        res = dict(zip(names, self._session.run(names, feeds), strict=True))
        for i, tid in enumerate(ids):
            self._state[tid] = {k: (res[k + "_out"][i] if self.time_aware else res[k + "_out"][:, i]).copy()
                                for k in self._state_names}
            self._last_t[tid] = t
        out = {"probs": softmax(res["logits"]).astype(np.float32)}
        if "valence_arousal" in res:
            out["valence_arousal"] = res["valence_arousal"].astype(np.float32)
        return out
