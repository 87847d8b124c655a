"""Seed 4 ("Emotion recognition on large video dataset based on convolutional feature extractor and RNN", Aff-Wild2).

Two stages trained separately. The CNN (after Khorrami): batch normalisation on the input, convolutions of 64, 128
and 256 filters, all 5x5 with ReLU, max pooling after the first two, quadrant pooling after the third (each filter
map pooled over its four quadrants: 2x2 per filter, Coates et al.), dense 300, dropout 0.5, then softmax classes
(eight on CK+) or a two-unit valence/arousal layer (Aff-Wild2), on 96x96 gray faces, Xavier initialised. The RNN
reads windows of W = 100 consecutive 300-d CNN features ([t - W, t]) and predicts frame t + 1: SimpleRNN or GRU,
either one layer of 100 units or three of 100/100/50. Losses (MSE, 1 - mean CCC) live in `emotrace.train.losses`.

Where the text is silent we follow the seed's published Keras code (github.com/DenisRang/Combined-CNN-RNN-for-
emotion-recognition, `src/models.py`), so the 96 px geometry is the seed's own: 'same' padding on the first
convolution and 'valid' on the other two (96 -> 48 -> 44 -> 22 -> 18), 2x2 max pools, convolutions without bias,
quadrant pooling as a 9x9 average pool with stride 9 (= average over each quadrant of the 18x18 maps), and a linear
dense 300 (Keras' default activation: none). Choices of ours: the VA layer is linear; `features` is dense 300's
output, before dropout. `padding="same"`, `bias=True`, `fc_relu=True` rebuild the earlier emotrace variant (same
padding everywhere, biases, ReLU after dense 300) for its checkpoints.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from emotrace.labels import EMOTIONS
from emotrace.models.registry import register_model
from emotrace.models.seeds._common import SeedModel, xavier_init


def quadrant_pool(x: torch.Tensor, mode: str = "avg") -> torch.Tensor:
    """Pool each spatial quadrant of every map separately: (N, C, H, W) -> (N, C, 2, 2) ('avg', 'sum' or 'max')."""
    if mode == "max":
        return F.adaptive_max_pool2d(x, 2)
    pooled = F.adaptive_avg_pool2d(x, 2)
    if mode == "sum":  # exact for even H and W (each quadrant then has H*W/4 cells)
        return pooled * (x.shape[-2] * x.shape[-1] / 4)
    if mode != "avg":
        raise ValueError(f"quadrant pooling is avg, sum or max, not {mode!r}")
    return pooled


class Seed4CNN(SeedModel):
    """Face (N, 1, 96, 96) in [0, 1] -> logits (N, C) or valence/arousal (N, 2); `features(x)` is the 300-d vector
    the RNN stage consumes (dense 300's output, before dropout)."""

    input_spec: dict[str, Any] = {"kind": "image", "frames": None, "size": 96, "channels": 1}

    def __init__(self, head: str = "classes", num_classes: int = len(EMOTIONS), size: int = 96,
                 channels: int = 1, embedding_dim: int = 300, dropout: float = 0.5, quadrant: str = "avg",
                 padding: str = "valid", bias: bool = False, fc_relu: bool = False) -> None:
        super().__init__()
        if head not in ("classes", "va"):
            raise ValueError(f"head is 'classes' or 'va', not {head!r}")
        self.output = head
        self.quadrant = quadrant
        self.input_spec = {"kind": "image", "frames": None, "size": size, "channels": channels}
        self.input_bn = nn.BatchNorm2d(channels)
        if padding not in ("valid", "same"):
            raise ValueError(f"padding of convolutions 2 and 3 is 'valid' (the seed's code) or 'same', not {padding!r}")
        pad = 0 if padding == "valid" else 2
        self.convs = nn.Sequential(
            nn.Conv2d(channels, 64, 5, padding=2, bias=bias), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 5, padding=pad, bias=bias), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 256, 5, padding=pad, bias=bias), nn.ReLU(),
        )
        self.fc = nn.Sequential(nn.Linear(256 * 4, embedding_dim), *([nn.ReLU()] if fc_relu else []))
        out_dim = num_classes if head == "classes" else 2
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(embedding_dim, out_dim))
        self.embedding_dim = embedding_dim
        xavier_init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(quadrant_pool(self.convs(self.input_bn(x)), self.quadrant).flatten(1))


class _StackedRNN(nn.Module):
    """RNN layers of possibly different widths (100/100/50 needs separate modules); returns the top sequence."""

    def __init__(self, cell: str, input_dim: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        rnn_cls = {"rnn": nn.RNN, "gru": nn.GRU}[cell]
        dims = (input_dim, *hidden)
        self.layers = nn.ModuleList(rnn_cls(a, b, batch_first=True) for a, b in zip(dims[:-1], dims[1:], strict=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for rnn in self.layers:
            x, _ = rnn(x)
        return x


class Seed4RNN(SeedModel):
    """Feature window (N, W, D) -> prediction for the frame after the window, (N, C) or (N, 2) valence/arousal,
    from the last step's hidden state. `features(x)` is that hidden state (100- or 50-d)."""

    input_spec: dict[str, Any] = {"kind": "features", "frames": 100, "size": None, "channels": 300}

    def __init__(self, cell: str = "gru", layers: int = 1, input_dim: int = 300, window: int = 100,
                 head: str = "va", num_classes: int = len(EMOTIONS)) -> None:
        super().__init__()
        if cell not in ("rnn", "gru"):
            raise ValueError(f"seed 4's cells are 'rnn' (SimpleRNN, tanh) or 'gru', not {cell!r}")
        hidden = {1: (100,), 3: (100, 100, 50)}.get(layers)
        if hidden is None:
            raise ValueError(f"seed 4's RNNs have 1 or 3 layers, not {layers}")
        if head not in ("classes", "va"):
            raise ValueError(f"head is 'classes' or 'va', not {head!r}")
        self.output = head
        self.input_spec = {"kind": "features", "frames": window, "size": None, "channels": input_dim}
        self.rnn = _StackedRNN(cell, input_dim, hidden)
        self.head = nn.Linear(hidden[-1], num_classes if head == "classes" else 2)
        self.embedding_dim = hidden[-1]
        xavier_init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[:, -1]


@register_model("seed4-cnn")
def seed4_cnn(**kwargs: Any) -> Seed4CNN:
    """Seed 4's frame CNN; `head="classes"|"va"`; about 1.3 M parameters."""
    return Seed4CNN(**kwargs)


@register_model("seed4-rnn")
def seed4_rnn(**kwargs: Any) -> Seed4RNN:
    """Seed 4's second stage; `cell="rnn"|"gru"`, `layers=1|3`, `head="va"|"classes"`."""
    return Seed4RNN(**kwargs)
