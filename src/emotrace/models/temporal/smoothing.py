"""Temporal stages that the pipeline runs per track. Each says what it is (`name`), so that outputs never present
smoothing as an LSTM.

- `EmaTemporal`: exponential smoothing of the frame model's probabilities with a time constant in seconds (right
  under variable frame rate). Used where no trained temporal model is shipped.
- `RnnTemporal`: a trained LSTM/GRU from the registry, stepped once per frame with per-track hidden state.
- `OnnxRnnTemporal`: the same step from the shipped ONNX export (state in and out), so the ONNX path of the
  pipeline never imports torch; same outputs within float rounding (tests/models/test_temporal.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from emotrace.models.manifest import default_model, verified_file, weight_record
from emotrace.models.runtime import onnx_session, softmax


class TemporalStage:
    """Turns a frame's per-face probabilities/embeddings into temporally consistent probabilities, per track."""

    name = "none"
    description = ""
    has_valence_arousal = False  # whether step() returns valence/arousal too

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def drop(self, track_ids: list[int]) -> None:
        """Forget the state of tracks that ended."""

    def reset(self) -> None:
        """Forget every track."""


class EmaTemporal(TemporalStage):
    """p_t = p_{t-1} + a (q_t - p_{t-1}), a = 1 - exp(-dt / tau); state restarts after a gap longer than `reset_s`."""

    name = "ema"

    def __init__(self, tau_s: float = 0.4, reset_s: float = 2.0) -> None:
        self.tau_s = tau_s
        self.reset_s = reset_s
        self.description = f"exponential smoothing of frame probabilities (tau={tau_s}s); not a trained model"
        self._state: dict[int, tuple[float, np.ndarray]] = {}

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray) -> dict[str, np.ndarray]:
        out = np.empty_like(probs)
        for i, tid in enumerate(track_ids.tolist()):
            prev = self._state.get(tid)
            if prev is None or t - prev[0] > self.reset_s or t <= prev[0]:
                cur = probs[i]
            else:
                a = 1.0 - math.exp(-(t - prev[0]) / self.tau_s)
                cur = prev[1] + a * (probs[i] - prev[1])
            self._state[tid] = (t, cur)
            out[i] = cur
        return {"probs": out}

    def drop(self, track_ids: list[int]) -> None:
        for tid in track_ids:
            self._state.pop(tid, None)

    def reset(self) -> None:
        self._state.clear()


class RnnTemporal(TemporalStage):
    """A trained LSTM/GRU (shipped weights by name, or a training run folder), stepped per frame; all tracks of a
    frame go through in one batch."""

    def __init__(self, weights: str) -> None:
        from emotrace.models.checkpoint import load_model

        loaded = load_model(weights)
        self.name = weights
        self.description = f"trained {loaded.arch} over frame embeddings"
        self.has_valence_arousal = "valence_arousal" in loaded.contract.outputs
        self.model = loaded.model
        self._state: dict[int, object] = {}

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray) -> dict[str, np.ndarray]:
        import torch

        ids = track_ids.tolist()
        states = [self._state.get(tid) for tid in ids]
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

    def drop(self, track_ids: list[int]) -> None:
        for tid in track_ids:
            self._state.pop(tid, None)

    def reset(self) -> None:
        self._state.clear()


class OnnxRnnTemporal(TemporalStage):
    """A shipped LSTM/GRU's exported step on ONNX Runtime: inputs `embedding` and the state (`h`, and `c` for an
    LSTM), outputs the heads and the new state (`h_out`, `c_out`). Per-track state is a numpy array. One thread: a
    step is a few small matrix products (0.07 ms on one thread, 0.12 ms on a pool of two)."""

    def __init__(self, weights: str, threads: int = 1) -> None:
        rec = weight_record(weights)
        self.name = weights
        self.description = f"trained {rec.arch} over frame embeddings"
        self._session = onnx_session(str(verified_file(weights, onnx=True)), threads)
        inputs = {i.name: i.shape for i in self._session.get_inputs()}
        self._state_names = [k for k in ("h", "c") if k in inputs]
        self._state_shape = {k: (int(inputs[k][0]), int(inputs[k][2])) for k in self._state_names}  # layers, hidden
        self._heads = [o.name for o in self._session.get_outputs() if not o.name.endswith("_out")]
        self.has_valence_arousal = "valence_arousal" in self._heads
        self._state: dict[int, dict[str, np.ndarray]] = {}

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray) -> dict[str, np.ndarray]:
        ids = track_ids.tolist()
        feeds: dict[str, np.ndarray] = {"embedding": np.ascontiguousarray(embedding, np.float32)}
        for k in self._state_names:
            layers, hidden = self._state_shape[k]
            zero = np.zeros((layers, hidden), np.float32)
            feeds[k] = np.stack([self._state[tid][k] if tid in self._state else zero for tid in ids], 1)
        names = self._heads + [k + "_out" for k in self._state_names]
        res = dict(zip(names, self._session.run(names, feeds), strict=True))
        for i, tid in enumerate(ids):
            self._state[tid] = {k: res[k + "_out"][:, i].copy() for k in self._state_names}
        out = {"probs": softmax(res["logits"]).astype(np.float32)}
        if "valence_arousal" in res:
            out["valence_arousal"] = res["valence_arousal"].astype(np.float32)
        return out

    def drop(self, track_ids: list[int]) -> None:
        for tid in track_ids:
            self._state.pop(tid, None)

    def reset(self) -> None:
        self._state.clear()


def _rnn(weights: str, runtime: str, threads: int) -> TemporalStage:
    """The ONNX step where the runtime allows it and the shipped weights carry one, else PyTorch."""
    if runtime != "torch" and not Path(weights).expanduser().exists():
        rec = weight_record(weights)
        if rec.onnx_file:
            try:
                import onnxruntime  # noqa: F401
            except ImportError:
                pass
            else:
                return OnnxRnnTemporal(weights)
    return RnnTemporal(weights)


def create_temporal(name: str = "auto", frame_model: str | None = None, runtime: str = "auto",
                    threads: int = 0) -> TemporalStage:
    """`auto`: the shipped default temporal model trained on `frame_model`'s embeddings where one exists, else EMA
    smoothing (and the output says so). A named temporal model must match the frame model it reads. A shipped model
    runs on ONNX Runtime unless `runtime` is torch (so the ONNX pipeline never imports torch)."""
    from emotrace.errors import EmotraceError

    if name == "auto":
        default = default_model("temporal", frame_model)
        return _rnn(default, runtime, threads) if default else EmaTemporal()
    if name == "ema":
        return EmaTemporal()
    if name.startswith("ema:"):
        try:
            return EmaTemporal(tau_s=float(name.split(":", 1)[1]))
        except ValueError:
            raise EmotraceError(f"temporal stage {name!r}: the time constant must be a number (ema:0.4)") from None
    if Path(name).expanduser().exists():  # a training run folder or checkpoint, used before (or without) shipping
        from emotrace.models.checkpoint import load_model

        loaded = load_model(name)
        temporal, reads, what = loaded.task == "temporal", loaded.frame_model, f"trained by task {loaded.task!r}"
    else:
        rec = weight_record(name)
        temporal, reads, what = rec.role == "temporal", rec.frame_model, f"its role is {rec.role!r}"
    if not temporal:
        raise EmotraceError(f"{name!r} is not a temporal model ({what})")
    if frame_model is not None and reads != frame_model:
        raise EmotraceError(f"temporal model {name} reads {reads} embeddings, "
                            f"not {frame_model}'s; pick that frame model or --temporal ema")
    return _rnn(name, runtime, threads)
