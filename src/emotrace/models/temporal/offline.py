"""The trained look-ahead stage for files: the time-aware forward GRU plus a learned summary of a fixed window
after each frame (`lookahead.py`). One stage class, `OfflineRnnTemporal`; the model runs through a backend object
with one interface: `TorchLookaheadStep` (PyTorch) or `OnnxLookaheadStep` (its ONNX export, so files never import
torch; same outputs within float rounding). `offline_model` finds the shipped one for a frame model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from emotrace.models.manifest import verified_file, weight_record
from emotrace.models.temporal.stage import FIRST_DT, TrainedStage, softmax
from emotrace.onnx_session import onnx_session

if TYPE_CHECKING:
    import torch

    from emotrace.models.checkpoint import LoadedModel


class _Held:
    """One frame of a track waiting for its look-ahead window: its input, the forward state before and after it."""

    __slots__ = ("t", "dt", "emb", "prev", "state", "out", "va", "row")

    def __init__(self, t: float, dt: float, emb: np.ndarray, prev: np.ndarray, state: np.ndarray, out: np.ndarray,
                 va: np.ndarray | None, row: int) -> None:
        self.t, self.dt, self.emb, self.prev, self.state = t, dt, emb, prev, state
        self.out, self.va, self.row = out, va, row


class LookaheadStep(Protocol):
    """The look-ahead model behind the stage: `advance` moves tracks' forward states by one frame; `outputs` gives
    frames' logits (and valence/arousal) from their inputs, the states before and after them, and their windows."""

    description: str
    lookahead_s: float
    reset_s: float
    window: int
    state_size: int
    has_valence_arousal: bool

    def advance(self, emb: np.ndarray, dt: np.ndarray, state: np.ndarray) -> np.ndarray: ...

    def outputs(self, emb: np.ndarray, dt: np.ndarray, prev: np.ndarray, state: np.ndarray, window: np.ndarray,
                ahead: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]: ...


def _description(arch: str, lookahead_s: float) -> str:
    return f"trained {arch} over frame embeddings: the past and {lookahead_s:g}s of look-ahead (offline: files)"


class TorchLookaheadStep:
    """The model in PyTorch: `step` for the forward state, `window_step` for a frame's output."""

    def __init__(self, model: torch.nn.Module, description: str) -> None:
        self.model, self.description = model.eval(), description
        self.lookahead_s, self.reset_s = float(model.lookahead_s), float(model.reset_s)
        self.window, self.state_size = int(model.window), int(model.state_size)
        self.has_valence_arousal = getattr(model, "va_head", None) is not None

    def advance(self, emb: np.ndarray, dt: np.ndarray, state: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.model.step(torch.from_numpy(emb), torch.from_numpy(dt), torch.from_numpy(state)).numpy()

    def outputs(self, emb: np.ndarray, dt: np.ndarray, prev: np.ndarray, state: np.ndarray, window: np.ndarray,
                ahead: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        import torch

        with torch.no_grad():
            res = self.model.window_step(torch.from_numpy(state), torch.from_numpy(window), torch.from_numpy(ahead),
                                         torch.from_numpy(valid))
        return res["logits"].numpy(), (res["valence_arousal"].numpy() if "valence_arousal" in res else None)


class OnnxLookaheadStep:
    """The shipped look-ahead model's ONNX export (`embedding, dt, state, window, ahead, valid` -> heads and
    `state_out`: one forward step, then frame k's output from its window) on ONNX Runtime. A frame's forward step
    runs when it arrives (its window left empty, the heads unused); its output runs when its window is complete,
    repeating the step from the state before it."""

    def __init__(self, weights: str, threads: int = 1) -> None:
        rec = weight_record(weights)
        self._session = onnx_session(str(verified_file(weights, onnx=True)), threads)
        inputs = {i.name: i.shape for i in self._session.get_inputs()}
        self._heads = [o.name for o in self._session.get_outputs() if o.name != "state_out"]
        kw = rec.arch_kwargs
        self.lookahead_s, self.reset_s = float(kw.get("lookahead_s", 0.4)), float(kw.get("reset_s", 1.0))
        self.window, self.state_size = int(inputs["window"][1]), int(inputs["state"][1])
        self.has_valence_arousal = "valence_arousal" in self._heads
        self.description = _description(rec.arch, self.lookahead_s)
        self._dim = int(inputs["window"][2])

    def _run(self, emb: np.ndarray, dt: np.ndarray, state: np.ndarray, window: np.ndarray, ahead: np.ndarray,
             valid: np.ndarray) -> dict[str, np.ndarray]:
        feeds = {"embedding": emb, "dt": dt, "state": state, "window": window, "ahead": ahead,
                 "valid": valid.astype(np.float32)}
        names = self._heads + ["state_out"]
        return dict(zip(names, self._session.run(names, feeds), strict=True))

    def advance(self, emb: np.ndarray, dt: np.ndarray, state: np.ndarray) -> np.ndarray:
        n, w = len(emb), self.window
        valid = np.zeros((n, w), np.float32)
        valid[:, 0] = 1  # frame k itself, so the unused heads stay finite
        window = np.zeros((n, w, self._dim), np.float32)
        window[:, 0] = emb
        return self._run(emb, dt, state, window, np.zeros((n, w), np.float32), valid)["state_out"]

    def outputs(self, emb: np.ndarray, dt: np.ndarray, prev: np.ndarray, state: np.ndarray, window: np.ndarray,
                ahead: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        res = self._run(emb, dt, prev, window, ahead, valid)
        return res["logits"], res.get("valence_arousal")


class OfflineRnnTemporal(TrainedStage):
    """A trained look-ahead model (`models/temporal/lookahead.py`): the forward state advances with every frame;
    a frame's output is computed once `delay_s` (the model's look-ahead) of its track has followed, or the track
    ended, and written in place into the arrays `step` returned. Holds at most `delay_s` of frames per track.
    The model runs through `model`, a PyTorch or ONNX Runtime backend: same outputs."""

    onnx_step = OnnxLookaheadStep

    mode = "offline"

    def __init__(self, model: LookaheadStep, name: str) -> None:
        self.model, self.name, self.description = model, name, model.description
        self.delay_s, self.lookahead_s, self.reset_s, self.window = (model.lookahead_s, model.lookahead_s,
                                                                     model.reset_s, model.window)
        self.has_valence_arousal = model.has_valence_arousal
        self._zero = np.zeros(model.state_size, np.float32)
        self._state: dict[int, tuple[float, np.ndarray]] = {}
        self._held: dict[int, list[_Held]] = {}

    @classmethod
    def from_loaded(cls, loaded: LoadedModel, name: str) -> OfflineRnnTemporal:
        """A stage over a model `load_model` gave (so a run folder is read once), on PyTorch."""
        return cls(TorchLookaheadStep(loaded.model, _description(loaded.arch, loaded.model.lookahead_s)), name)

    @classmethod
    def for_model(cls, model: torch.nn.Module, name: str = "model") -> OfflineRnnTemporal:
        """A stage over a model in memory (tests, benchmarks of a model not yet saved)."""
        return cls(TorchLookaheadStep(model, "look-ahead model in memory"), name)

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray,
             ended: Sequence[int] = ()) -> dict[str, np.ndarray]:
        if ended:
            self.drop(list(ended))
        ids = track_ids.tolist()
        prev_t = [self._state.get(tid) for tid in ids]
        dt = np.array([t - p[0] if p is not None else FIRST_DT for p in prev_t], np.float32)
        prev = np.stack([p[1] if p is not None else self._zero for p in prev_t])
        emb = np.ascontiguousarray(embedding, np.float32)
        new = self.model.advance(emb, dt, prev)
        out = probs.astype(np.float32).copy()  # provisional: final values are written within delay_s
        va = np.zeros((len(ids), 2), np.float32) if self.has_valence_arousal else None
        ready: list[tuple[list[_Held], int]] = []
        for i, tid in enumerate(ids):
            self._state[tid] = (t, new[i].copy())
            queue = self._held.setdefault(tid, [])
            queue.append(_Held(t, float(dt[i]), emb[i], prev[i].copy(), new[i].copy(), out, va, i))
            done = 0
            while done < len(queue) and t - queue[done].t >= self.delay_s - 1e-9:
                done += 1
            if done:
                ready.append((queue, done))
        self._finish(ready)
        res = {"probs": out}
        if va is not None:
            res["valence_arousal"] = va
        return res

    def _finish(self, ready: list[tuple[list[_Held], int]]) -> None:
        """Compute and write the outputs of the first `count` frames of each queue (one batch), then forget them."""
        rows = [(queue, k) for queue, count in ready for k in range(count)]
        if not rows:
            return
        w, d = self.window, len(rows[0][0][0].emb)
        window = np.zeros((len(rows), w, d), np.float32)
        ahead = np.zeros((len(rows), w), np.float32)
        valid = np.zeros((len(rows), w), bool)
        for r, (queue, k) in enumerate(rows):
            t0 = queue[k].t
            for j, h in enumerate(queue[k:k + w]):
                if h.t - t0 > self.lookahead_s + 1e-6 or (j and h.dt > self.reset_s):
                    break
                window[r, j], ahead[r, j], valid[r, j] = h.emb, h.t - t0, True
        held = [queue[k] for queue, k in rows]
        logits, va = self.model.outputs(np.stack([h.emb for h in held]), np.array([h.dt for h in held], np.float32),
                                        np.stack([h.prev for h in held]), np.stack([h.state for h in held]),
                                        window, ahead, valid)
        probs = softmax(logits).astype(np.float32)
        for r, (queue, k) in enumerate(rows):
            h = queue[k]
            h.out[h.row] = probs[r]
            if h.va is not None and va is not None:
                h.va[h.row] = va[r]
        for queue, count in ready:
            del queue[:count]

    def settle(self, before_t: float) -> None:
        self._finish([(q, n) for q in self._held.values() if (n := sum(1 for h in q if h.t <= before_t))])

    def drop(self, track_ids: list[int]) -> None:
        self._finish([(self._held[tid], len(self._held[tid])) for tid in track_ids if self._held.get(tid)])
        for tid in track_ids:
            self._held.pop(tid, None)
            self._state.pop(tid, None)

    def reset(self) -> None:
        self._held.clear()
        self._state.clear()


def offline_model(frame_model: str | None) -> str | None:
    """The shipped look-ahead model reading `frame_model`'s embeddings (files use it under `auto`), if any: the
    record's contract says whether a model looks ahead (its class states it; `contract_of`), so no torch here."""
    from emotrace.models.manifest import manifest

    names = sorted(n for n, r in manifest().items() if r.role == "temporal" and r.contract.offline
                   and (frame_model is None or r.frame_model == frame_model))
    return names[0] if names else None
