"""Seed 4's second stage in the pipeline: an RNN over a window of the last W frame embeddings of a track.

The seed's RNN reads [t - W, t] and predicts frame t + 1; a causal pipeline has no frame t + 1 to wait for, so each
frame's output is the RNN over the window that ends at that frame (shorter at a track's start). It is a classify run
over embedding windows (`features_from`: its CNN), so it runs only behind that CNN (`--frame-model` the same run).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from emotrace.labels import EMOTIONS
from emotrace.models.temporal.stage import TemporalStage, softmax


class WindowRnnTemporal(TemporalStage):
    """Per track, a deque of the last `window` embeddings; each step runs the model over every track's window."""

    def __init__(self, model: Any, classes: Sequence[str], window: int, name: str) -> None:
        self.model = model.eval()
        self.window = int(window)
        self.name = name
        self.description = f"seed 4 RNN over the last {self.window} frame embeddings (causal)"
        self._va = getattr(model, "output", "classes") == "va"
        self.has_valence_arousal = self._va
        self._keep = None if self._va else np.array([list(classes).index(c) for c in EMOTIONS])
        self._state: dict[int, deque] = {}

    @classmethod
    def from_loaded(cls, loaded: Any, name: str) -> WindowRnnTemporal:
        return cls(loaded.model, loaded.contract.classes, loaded.contract.frames or 100, name)

    def step(self, track_ids: np.ndarray, t: float, probs: np.ndarray, embedding: np.ndarray,
             ended: Sequence[int] = ()) -> dict[str, np.ndarray]:
        import torch

        if ended:
            self.drop(list(ended))
        outs = []
        for i, tid in enumerate(track_ids.tolist()):
            buf = self._state.setdefault(tid, deque(maxlen=self.window))
            buf.append(np.asarray(embedding[i], np.float32))
            with torch.inference_mode():
                outs.append(self.model(torch.from_numpy(np.stack(buf))[None]).float().numpy()[0])
        raw = np.stack(outs) if outs else np.zeros((0, 2 if self._va else len(EMOTIONS)), np.float32)
        if self._va:  # a valence/arousal RNN: the classes stay the frame model's
            return {"probs": probs.astype(np.float32), "valence_arousal": raw.astype(np.float32)}
        return {"probs": softmax(raw[:, self._keep]).astype(np.float32)}
