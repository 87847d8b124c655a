"""Seed 3 (student report "Dynamic emotion recognition using a hybrid CNN-LSTM", Keras code listed in the report).

The report's model, layer for layer: Conv2D(32, 3x3, relu) on 48x48x1, Conv2D(64, 3x3, relu), MaxPool 2x2,
Dropout 0.25, Conv2D(128, 3x3, relu), MaxPool, Conv2D(128, 3x3, relu), MaxPool, Dropout 0.25, Flatten,
Reshape((1, -1)), LSTM(64), Dense(1028, relu), Dense(6, softmax). The Conv2D calls pass no padding, so Keras'
default 'valid' applies: 48 -> 46 -> 44 -> 22 -> 20 -> 10 -> 8 -> 4, a 2048-d flattened vector.

With Reshape((1, -1)) the LSTM sees a sequence of length one (it acts as a gated dense layer). The report's
"future scope" is a time-distributed model over real frame sequences: `time_distributed=True` (or the name
`seed3-cnn-lstm-td`) runs the same CNN on every frame of (N, T, 1, 48, 48) and the LSTM over the T vectors.

The report's comparison table sets its CNN-LSTM (92.07%) against a "5-layer CNN" (67.69%) from its references,
whose layers it does not give. `seed3-cnn` is our reading (a choice where the text is silent): the report's own
network with the LSTM taken out, Flatten -> Dense(1028, relu) -> Dense(C), four convolutions and one dense layer
before the classifier, so the pair measures what the LSTM adds with everything else equal.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from emotrace.models.registry import register_model
from emotrace.models.seeds._common import SeedModel, xavier_init

SEED3_EMOTIONS: tuple[str, ...] = ("angry", "fear", "happy", "neutral", "sad", "surprise")
"""The report's six labels in its `emotion_labels` order, the meaning of output i when num_classes=6."""


def seed3_cnn() -> nn.Sequential:
    """The report's convolutional trunk: (N, 1, 48, 48) -> (N, 2048)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 128, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
    )


class Seed3CNNLSTM(SeedModel):
    """Image (N, 1, 48, 48) in [0, 1] -> logits (N, C); time-distributed: (N, T, 1, 48, 48) -> (N, C) from the
    LSTM's last step (or (N, T, C) with `per_step=True`). `features(x)` is the 1028-unit dense output."""

    input_spec: dict[str, Any] = {"kind": "image", "frames": None, "size": 48, "channels": 1}

    def __init__(self, num_classes: int = 6, time_distributed: bool = False, frames: int | None = None,
                 per_step: bool = False, hidden: int = 64, dense: int = 1028, recurrent: bool = True) -> None:
        super().__init__()
        if not recurrent and time_distributed:
            raise ValueError("the time-distributed form needs its LSTM (recurrent=True)")
        self.time_distributed = time_distributed
        self.per_step = per_step and time_distributed
        kind = "sequence" if time_distributed else "image"
        self.input_spec = {"kind": kind, "frames": frames if time_distributed else None, "size": 48, "channels": 1}
        self.cnn = seed3_cnn()
        self.lstm = nn.LSTM(128 * 4 * 4, hidden, batch_first=True) if recurrent else None
        self.dense = nn.Sequential(nn.Linear(hidden if recurrent else 128 * 4 * 4, dense), nn.ReLU())
        self.head = nn.Linear(dense, num_classes)
        self.embedding_dim = dense
        xavier_init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.lstm is None:
            return self.dense(self.cnn(x))
        if self.time_distributed:
            n, t = x.shape[:2]
            seq = self.cnn(x.reshape(n * t, *x.shape[2:])).reshape(n, t, -1)
        else:
            seq = self.cnn(x)[:, None, :]  # Reshape((1, -1)): a length-1 sequence
        out, _ = self.lstm(seq)
        return self.dense(out if self.per_step else out[:, -1])


@register_model("seed3-cnn-lstm")
def seed3_cnn_lstm(**kwargs: Any) -> Seed3CNNLSTM:
    """The report's model on single 48x48 gray faces (~92% train / ~86% test accuracy reported on its custom set)."""
    return Seed3CNNLSTM(**kwargs)


@register_model("seed3-cnn")
def seed3_cnn_model(**kwargs: Any) -> Seed3CNNLSTM:
    """The report's network without its LSTM: the "5-layer CNN" its table compares with (module docstring)."""
    return Seed3CNNLSTM(recurrent=False, **kwargs)


@register_model("seed3-cnn-lstm-td")
def seed3_cnn_lstm_td(**kwargs: Any) -> Seed3CNNLSTM:
    """The report's future-scope time-distributed form over frame sequences (N, T, 1, 48, 48)."""
    return Seed3CNNLSTM(time_distributed=True, **kwargs)
