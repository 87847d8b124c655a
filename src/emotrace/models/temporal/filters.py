"""Untrained temporal stages: EMA smoothing (time constant in seconds, right under variable frame rate), online
HMM decoding with a label-transition prior, and `LookaheadTemporal`: any causal stage followed by fixed-lag
forward-backward decoding, for files, where a result may come `delay_s` late (`Analyzer.stream` holds results)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from emotrace.models.temporal.decoding import emission, forward_step, smooth_window
from emotrace.models.temporal.stage import TemporalStage


class EmaTemporal(TemporalStage):
    """p_t = p_{t-1} + a (q_t - p_{t-1}), a = 1 - exp(-dt / tau); state restarts after a gap longer than `reset_s`."""

    name = "ema"

    def __init__(self, tau_s: float = 0.4, reset_s: float = 2.0) -> None:
        self.tau_s = tau_s
        self.reset_s = reset_s
        self.description = f"exponential smoothing of frame probabilities (tau={tau_s}s); not a trained model"
        self._state: dict[int, tuple[float, np.ndarray]] = {}

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray,
             ended: Sequence[int] = ()) -> dict[str, np.ndarray]:
        if ended:
            self.drop(list(ended))
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


class HmmTemporal(TemporalStage):
    """Online (forward) decoding of the frame model's probabilities with a per-second label-switch prior."""

    name = "hmm"

    def __init__(self, switch_rate: float = 1.0, sharpness: float = 0.5, reset_s: float = 2.0) -> None:
        self.switch_rate, self.sharpness, self.reset_s = switch_rate, sharpness, reset_s
        self.description = (f"online label decoding with a transition prior (switch rate {switch_rate}/s); "
                            "not a trained model")
        self._state: dict[int, tuple[float, np.ndarray]] = {}

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray,
             ended: Sequence[int] = ()) -> dict[str, np.ndarray]:
        if ended:
            self.drop(list(ended))
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

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray,
             ended: Sequence[int] = ()) -> dict[str, np.ndarray]:
        if ended:
            self.drop(list(ended))
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


LOOKAHEAD = {"delay_s": 0.5, "switch_rate": 1.0, "sharpness": 0.5}  # chosen on FER+ Train sequences (docs/design.md)
