"""Temporal stages that the pipeline runs per track. Each says what it is (`name`), so that outputs never present
smoothing as an LSTM.

- `EmaTemporal`: exponential smoothing of the frame model's probabilities with a time constant in seconds (right
  under variable frame rate). Used where no trained temporal model is shipped.
- `RnnTemporal`: a trained LSTM/GRU from the registry, stepped once per frame with per-track hidden state; a
  time-aware one (`models/temporal/timed.py`) also gets the seconds since the track's previous frame.
- `HmmTemporal`: online decoding of the frame model's probabilities with a label-transition prior (no training).
- `LookaheadTemporal`: a causal stage followed by fixed-lag forward-backward decoding: for files, where a result
  may come `delay_s` late. The pipeline holds results that long (see `Analyzer.stream`).
- `OnnxRnnTemporal`: a shipped causal model's step from its ONNX export (state in and out; `dt` too for a
  time-aware one), so the ONNX path of the pipeline never imports torch; same outputs within float rounding.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from emotrace.models.manifest import default_model, verified_file, weight_record
from emotrace.models.runtime import onnx_session, softmax
from emotrace.models.temporal.decoding import emission, forward_step, smooth_window

if TYPE_CHECKING:
    import torch

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

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray) -> dict[str, np.ndarray]:
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


class HmmTemporal(TemporalStage):
    """Online (forward) decoding of the frame model's probabilities with a per-second label-switch prior."""

    name = "hmm"

    def __init__(self, switch_rate: float = 1.0, sharpness: float = 0.5, reset_s: float = 2.0) -> None:
        self.switch_rate, self.sharpness, self.reset_s = switch_rate, sharpness, reset_s
        self.description = (f"online label decoding with a transition prior (switch rate {switch_rate}/s); "
                            "not a trained model")
        self._state: dict[int, tuple[float, np.ndarray]] = {}

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray) -> dict[str, np.ndarray]:
        out = np.empty_like(probs)
        for i, tid in enumerate(track_ids.tolist()):
            prev = self._state.get(tid)
            belief = forward_step(None if prev is None else prev[1], probs[i], t - prev[0] if prev else 0.0,
                                  self.switch_rate, self.sharpness, self.reset_s)
            self._state[tid] = (t, belief)
            out[i] = belief
        return {"probs": out}


class _Pending:
    """One frame of a track waiting for its look-ahead: where its output goes, and its HMM messages."""

    __slots__ = ("t", "dt", "alpha", "emis", "out", "row")

    def __init__(self, t: float, dt: float, alpha: np.ndarray, emis: np.ndarray, out: np.ndarray, row: int) -> None:
        self.t, self.dt, self.alpha, self.emis, self.out, self.row = t, dt, alpha, emis, out, row


class LookaheadTemporal(TemporalStage):
    """A causal stage, then fixed-lag forward-backward decoding of its probabilities over `delay_s` of look-ahead.

    Why this and not a bidirectional network over whole tracks: memory. Only the frames of the last `delay_s` of
    each live track are held (about 15 frames at 30 fps for 0.5 s), so an hour-long file costs what a minute costs,
    and the pipeline yields results `delay_s` late instead of at the end of a track. Outputs are written in place
    into the arrays `step` returned, once final (`settle`, `drop`)."""

    mode = "offline"

    def __init__(self, inner: TemporalStage, delay_s: float = 0.5, switch_rate: float = 1.0,
                 sharpness: float = 0.5, reset_s: float = 1.0) -> None:
        self.inner = inner
        self.delay_s, self.switch_rate, self.sharpness, self.reset_s = delay_s, switch_rate, sharpness, reset_s
        self.name = f"{inner.name}+lookahead{delay_s:g}s"
        self.description = (f"{inner.description}, then fixed-lag forward-backward label decoding over "
                            f"{delay_s:g}s of look-ahead (offline: files)")
        self.has_valence_arousal = inner.has_valence_arousal
        self._tracks: dict[int, list[_Pending]] = {}
        self._last: dict[int, tuple[float, np.ndarray]] = {}  # time and forward message of each track's last frame

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray) -> dict[str, np.ndarray]:
        res = self.inner.step(track_ids, t, probs, embedding)
        causal = res["probs"]
        out = causal.copy()  # provisional; final values are written in place within delay_s
        for i, tid in enumerate(track_ids.tolist()):
            queue = self._tracks.setdefault(tid, [])
            last = self._last.get(tid)
            dt = t - last[0] if last is not None else 0.0
            if last is not None and dt > self.reset_s:  # a long gap: nothing after it speaks for what came before
                self._finish(queue, len(queue))
                last = None
            alpha = forward_step(last[1] if last is not None else None, causal[i], dt, self.switch_rate,
                                 self.sharpness, self.reset_s)
            self._last[tid] = (t, alpha)
            queue.append(_Pending(t, dt, alpha, emission(causal[i], self.sharpness), out, i))
            done = 0
            while done < len(queue) and t - queue[done].t >= self.delay_s:
                done += 1
            self._finish(queue, done)
        return {**res, "probs": out}

    def _finish(self, queue: list[_Pending], count: int) -> None:
        """Finalise the first `count` frames of a track's queue with the look-ahead it holds, and forget them."""
        for k in range(count):
            window = [p for p in queue[k:] if p.t - queue[k].t <= self.delay_s + 1e-9]
            p = queue[k]
            p.out[p.row] = smooth_window(np.stack([w.alpha for w in window]), np.stack([w.emis for w in window]),
                                         np.array([w.dt for w in window]), self.switch_rate)
        del queue[:count]

    def settle(self, before_t: float) -> None:
        for queue in self._tracks.values():
            self._finish(queue, sum(1 for p in queue if p.t <= before_t))

    def drop(self, track_ids: list[int]) -> None:
        self.inner.drop(track_ids)
        for tid in track_ids:
            queue = self._tracks.pop(tid, None)
            self._last.pop(tid, None)
            if queue:
                self._finish(queue, len(queue))

    def reset(self) -> None:
        self.inner.reset()
        self._tracks.clear()
        self._last.clear()


class _Held:
    """One frame of a track waiting for its look-ahead window: its input, the forward state before and after it."""

    __slots__ = ("t", "dt", "emb", "prev", "state", "out", "va", "row")

    def __init__(self, t: float, dt: float, emb: np.ndarray, prev: np.ndarray, state: np.ndarray, out: np.ndarray,
                 va: np.ndarray | None, row: int) -> None:
        self.t, self.dt, self.emb, self.prev, self.state = t, dt, emb, prev, state
        self.out, self.va, self.row = out, va, row


class OfflineRnnTemporal(TemporalStage):
    """A trained look-ahead model (`models/temporal/lookahead.py`): the forward state advances with every frame;
    a frame's output is computed once `delay_s` (the model's look-ahead) of its track has followed, or the track
    ended, and written in place into the arrays `step` returned. Holds at most `delay_s` of frames per track.
    This class runs the model in PyTorch; `OnnxOfflineTemporal` runs its shipped ONNX export, same outputs."""

    mode = "offline"

    def __init__(self, weights: str | None = None, model: torch.nn.Module | None = None, name: str = "") -> None:
        if model is None:
            from emotrace.models.checkpoint import load_model

            loaded = load_model(str(weights))
            model = loaded.model
            self.description = (f"trained {loaded.arch} over frame embeddings: the past and {model.lookahead_s:g}s "
                                "of look-ahead (offline: files)")
        else:
            self.description = "look-ahead model in memory"
        self.model = model.eval()
        self.name = name or str(weights)
        self._setup(float(model.lookahead_s), float(model.reset_s), int(model.window), int(model.state_size),
                    getattr(model, "va_head", None) is not None)

    def _setup(self, lookahead_s: float, reset_s: float, window: int, state_size: int, va: bool) -> None:
        self.delay_s, self.lookahead_s, self.reset_s, self.window = lookahead_s, lookahead_s, reset_s, window
        self.has_valence_arousal = va
        self._zero = np.zeros(state_size, np.float32)
        self._state: dict[int, tuple[float, np.ndarray]] = {}
        self._held: dict[int, list[_Held]] = {}

    # -- the model: one forward step, and the outputs of frames from their windows
    def _advance(self, emb: np.ndarray, dt: np.ndarray, state: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.model.step(torch.from_numpy(emb), torch.from_numpy(dt), torch.from_numpy(state)).numpy()

    def _outputs(self, rows: list[_Held], window: np.ndarray, ahead: np.ndarray,
                 valid: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        import torch

        with torch.no_grad():
            state = torch.from_numpy(np.stack([h.state for h in rows]))
            res = self.model.window_step(state, torch.from_numpy(window), torch.from_numpy(ahead),
                                         torch.from_numpy(valid))
        return res["logits"].numpy(), (res["valence_arousal"].numpy() if "valence_arousal" in res else None)

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray) -> dict[str, np.ndarray]:
        ids = track_ids.tolist()
        prev_t = [self._state.get(tid) for tid in ids]
        dt = np.array([t - p[0] if p is not None else FIRST_DT for p in prev_t], np.float32)
        prev = np.stack([p[1] if p is not None else self._zero for p in prev_t])
        emb = np.ascontiguousarray(embedding, np.float32)
        new = self._advance(emb, dt, prev)
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
        logits, va = self._outputs([queue[k] for queue, k in rows], window, ahead, valid)
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


class OnnxOfflineTemporal(OfflineRnnTemporal):
    """The shipped look-ahead model's ONNX export (`embedding, dt, state, window, ahead, valid` -> heads and
    `state_out`: one forward step, then frame k's output from its window) on ONNX Runtime, so files never import
    torch. A frame's forward step runs when it arrives (its window left empty, the heads unused); its output runs
    when its window is complete, repeating the step from the state before it."""

    def __init__(self, weights: str, threads: int = 1) -> None:
        rec = weight_record(weights)
        self.name = weights
        self._session = onnx_session(str(verified_file(weights, onnx=True)), threads)
        inputs = {i.name: i.shape for i in self._session.get_inputs()}
        self._heads = [o.name for o in self._session.get_outputs() if o.name != "state_out"]
        kw = rec.arch_kwargs
        lookahead_s = float(kw.get("lookahead_s", 0.4))
        self.description = (f"trained {rec.arch} over frame embeddings: the past and {lookahead_s:g}s of look-ahead "
                            "(offline: files)")
        self._setup(lookahead_s, float(kw.get("reset_s", 1.0)), int(inputs["window"][1]), int(inputs["state"][1]),
                    "valence_arousal" in self._heads)
        self._dim = int(inputs["window"][2])

    def _run(self, emb: np.ndarray, dt: np.ndarray, state: np.ndarray, window: np.ndarray, ahead: np.ndarray,
             valid: np.ndarray) -> dict[str, np.ndarray]:
        feeds = {"embedding": emb, "dt": dt, "state": state, "window": window, "ahead": ahead,
                 "valid": valid.astype(np.float32)}
        names = self._heads + ["state_out"]
        return dict(zip(names, self._session.run(names, feeds), strict=True))

    def _advance(self, emb: np.ndarray, dt: np.ndarray, state: np.ndarray) -> np.ndarray:
        n, w = len(emb), self.window
        valid = np.zeros((n, w), np.float32)
        valid[:, 0] = 1  # frame k itself, so the unused heads stay finite
        window = np.zeros((n, w, self._dim), np.float32)
        window[:, 0] = emb
        return self._run(emb, dt, state, window, np.zeros((n, w), np.float32), valid)["state_out"]

    def _outputs(self, rows: list[_Held], window: np.ndarray, ahead: np.ndarray,
                 valid: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        res = self._run(np.stack([h.emb for h in rows]), np.array([h.dt for h in rows], np.float32),
                        np.stack([h.prev for h in rows]), window, ahead, valid)
        return res["logits"], res.get("valence_arousal")


LOOKAHEAD_SUFFIX = "+lookahead"
LOOKAHEAD = {"delay_s": 0.5, "switch_rate": 1.0, "sharpness": 0.5}  # chosen on FER+ Train sequences (docs/design.md)


OFFLINE_ARCHS = ("emotrace-lookahead-gru", "emotrace-lookahead-lstm")


def offline_model(frame_model: str | None) -> str | None:
    """The shipped look-ahead model reading `frame_model`'s embeddings (files use it under `auto`), if any."""
    from emotrace.models.manifest import manifest

    names = sorted(n for n, r in manifest().items() if r.role == "temporal" and r.arch in OFFLINE_ARCHS
                   and (frame_model is None or r.frame_model == frame_model))
    return names[0] if names else None


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


def _on_runtime(weights: str, runtime: str, onnx_stage: type[TemporalStage],
                torch_stage: type[TemporalStage]) -> TemporalStage:
    """`onnx_stage` where the runtime allows it, ONNX Runtime imports and the weights are shipped with an export
    (so the ONNX pipeline never imports torch), else `torch_stage` (also for run folders). The ONNX stages run one
    thread each: a step is a few small matrix products."""
    if runtime != "torch" and not Path(weights).expanduser().exists() and weight_record(weights).onnx_file:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            pass
        else:
            return onnx_stage(weights)
    return torch_stage(weights)


def create_temporal(name: str = "auto", frame_model: str | None = None, offline: bool = False,
                    runtime: str = "auto") -> TemporalStage:
    """`auto`: the shipped default temporal model trained on `frame_model`'s embeddings where one exists, else EMA
    smoothing (and the output says so); with `offline` (files) the shipped look-ahead model for that frame model
    where there is one. `NAME+lookahead` adds fixed-lag HMM decoding to any causal stage. A named temporal model
    must match the frame model it reads. A shipped causal model runs on ONNX Runtime unless `runtime` is torch (so
    the ONNX pipeline never imports torch for it)."""
    if name.endswith(LOOKAHEAD_SUFFIX):
        inner = _causal(name[:-len(LOOKAHEAD_SUFFIX)] or "auto", frame_model, runtime)
        return LookaheadTemporal(inner, **LOOKAHEAD)
    if offline and name == "auto":
        found = offline_model(frame_model)
        if found:
            return _causal(found, frame_model, runtime)
    return _causal(name, frame_model, runtime)


def _causal(name: str, frame_model: str | None, runtime: str = "auto") -> TemporalStage:
    from emotrace.errors import EmotraceError

    if name == "auto":
        default = default_model("temporal", frame_model)
        return _on_runtime(default, runtime, OnnxRnnTemporal, RnnTemporal) if default else EmaTemporal()
    if name == "ema":
        return EmaTemporal()
    if name == "hmm":
        return HmmTemporal()
    if name.startswith(("ema:", "hmm:")):
        try:
            value = float(name.split(":", 1)[1])
        except ValueError:
            raise EmotraceError(f"temporal stage {name!r}: the parameter must be a number (ema:0.4, hmm:1.0)") from None
        return EmaTemporal(tau_s=value) if name.startswith("ema:") else HmmTemporal(switch_rate=value)
    if Path(name).expanduser().exists():  # a training run folder or checkpoint, used before (or without) shipping
        from emotrace.models.checkpoint import load_model

        loaded = load_model(name)
        temporal, reads, what = loaded.task == "temporal", loaded.frame_model, f"trained by task {loaded.task!r}"
        arch = loaded.arch
    else:
        rec = weight_record(name)
        temporal, reads, what = rec.role == "temporal", rec.frame_model, f"its role is {rec.role!r}"
        arch = rec.arch
    if not temporal:
        raise EmotraceError(f"{name!r} is not a temporal model ({what})")
    if frame_model is not None and reads != frame_model:
        raise EmotraceError(f"temporal model {name} reads {reads} embeddings, "
                            f"not {frame_model}'s; pick that frame model or --temporal ema")
    if arch in OFFLINE_ARCHS:
        return _on_runtime(name, runtime, OnnxOfflineTemporal, OfflineRnnTemporal)
    return _on_runtime(name, runtime, OnnxRnnTemporal, RnnTemporal)
