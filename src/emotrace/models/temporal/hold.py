"""What the temporal stage is fed while the face signals say a face cannot be read (issue 26: the quality flags
used by the temporal stage).

A face in profile, looking down or with its eyes closed (`faces/signals.py`'s quality flags) is a poor input for
the frame model: a blink or a turn of the head reads as another expression for a frame or two. With signals on,
such a face's temporal input (probabilities and embedding) is the track's last clear one, so the temporal label
holds through the turn or the blink instead of following it; the frame model's own per-frame answer
(`frame_probs`, `frame_label`) is left as it read the face. A hold lasts at most `MAX_HOLD_S`: a flag that stays
longer is a state, not a glitch (a speaker reading notes looks down for seconds, and still smiles), and the face is
then fed as read. A flag stands from a reading until the track's next reading (with `--signals N`, N frames), a
track with no clear frame yet is fed as it is, and nothing changes with signals off.
"""

from __future__ import annotations

import numpy as np

from emotrace.types import Signals

MAX_HOLD_S = 1.0  # longest hold: blinks and brief turns are shorter (docs/signals.md)


class UnclearHold:
    """Per track: the last clear temporal input, and whether the last reading flagged the face."""

    def __init__(self, max_hold_s: float = MAX_HOLD_S) -> None:
        self.max_hold_s = max_hold_s
        self._last: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}  # track -> last clear (probs, emb, time)
        self._unclear: dict[int, bool] = {}  # track -> its last reading's flag

    def inputs(self, track_ids: np.ndarray, t: float, signals: Signals | None, probs: np.ndarray,
               embedding: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The temporal stage's inputs for one frame's faces at time `t`, and which faces were held (bool, N)."""
        held = np.zeros(len(track_ids), bool)
        if signals is None or not len(track_ids):
            return probs, embedding, held
        probs, embedding = probs.copy(), embedding.copy()
        for i, tid in enumerate(int(x) for x in track_ids):
            if signals.status[i] == "measured":
                self._unclear[tid] = bool(signals.quality[i])
            last = self._last.get(tid)
            if self._unclear.get(tid, False) and last is not None and t - last[2] <= self.max_hold_s:
                probs[i], embedding[i] = last[0], last[1]
                held[i] = True
            elif not self._unclear.get(tid, False):
                self._last[tid] = (probs[i].copy(), embedding[i].copy(), t)
        return probs, embedding, held

    def drop(self, track_ids: list[int]) -> None:
        """Forget tracks that ended."""
        for tid in track_ids:
            self._last.pop(tid, None)
            self._unclear.pop(tid, None)

    def reset(self) -> None:
        self._last.clear()
        self._unclear.clear()
