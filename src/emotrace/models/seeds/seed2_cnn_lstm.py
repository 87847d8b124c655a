"""Seed 2 ("CNN-LSTM face emotion recognition for image, video and webcam", FER2013).

The document: Haar-cascade faces, grayscale, normalised; a CNN of convolution + ReLU + pooling layers, flattened
into a feature vector per frame; an LSTM over the vectors of consecutive frames (for stable predictions in video);
softmax classification trained with categorical cross-entropy. It gives no layer sizes: the three conv/ReLU/pool
stages (32, 64, 128 filters, 3x3 'same'), the 128-d projection of the flattened map and the 64-unit LSTM are ours,
kept small for a CPU webcam loop. A single image is a sequence of length one.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from emotrace.labels import EMOTIONS
from emotrace.models.registry import register_model
from emotrace.models.seeds._common import SeedModel, xavier_init


def _stage(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]


class Seed2CNNLSTM(SeedModel):
    """Haar crops (N, T, 1, 48, 48) in [0, 1] -> logits (N, C) after the last frame, or (N, T, C) per frame with
    `per_step=True` (what a live stream wants). `features(x)` is the LSTM output the head reads."""

    input_spec: dict[str, Any] = {"kind": "sequence", "frames": None, "size": 48, "channels": 1}

    def __init__(self, num_classes: int = len(EMOTIONS), size: int = 48, widths: tuple[int, ...] = (32, 64, 128),
                 frame_dim: int = 128, hidden: int = 64, per_step: bool = False) -> None:
        super().__init__()
        self.per_step = per_step
        self.input_spec = {"kind": "sequence", "frames": None, "size": size, "channels": 1}
        layers: list[nn.Module] = []
        cin = 1
        for w in widths:
            layers += _stage(cin, w)
            cin = w
        side = size // 2 ** len(widths)
        self.cnn = nn.Sequential(*layers, nn.Flatten(), nn.Linear(cin * side * side, frame_dim), nn.ReLU())
        self.lstm = nn.LSTM(frame_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)
        self.embedding_dim = hidden
        xavier_init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:  # one image per sample
            x = x[:, None]
        n, t = x.shape[:2]
        out, _ = self.lstm(self.cnn(x.reshape(n * t, *x.shape[2:])).reshape(n, t, -1))
        return out if self.per_step else out[:, -1]


@register_model("seed2-cnn-lstm")
def seed2_cnn_lstm(**kwargs: Any) -> Seed2CNNLSTM:
    """Seed 2's CNN-LSTM over consecutive Haar face crops."""
    return Seed2CNNLSTM(**kwargs)
