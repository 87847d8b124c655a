"""The temporal-stage protocol: what the pipeline calls per track (step, drop, settle, reset), and what every
stage says of itself (`name`, `description`, `mode`, `delay_s`), so outputs never present smoothing as an LSTM."""

from __future__ import annotations

import numpy as np

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
