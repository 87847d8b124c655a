"""Seed 1 ("A CNN-LSTM based deep neural networks for facial emotion detection in videos", CREMA-D/RAVDESS).

The document: input 75x28x28x3 masked faces scaled by 1/255; a 3D convolutional block = convolution filters with
L2 kernel regularisation, LeakyReLU, batch normalisation, SpatialDropout3D; 5 layers = one block, 6 = two,
7 = three; then LSTM(64) with dropout, dense 32 with LeakyReLU and a softmax over six emotions (angry, disgust,
fear, happy, neutral, sad). Filter counts, kernel size, padding, dropout rates and the L2 factor are not given in
the text; the defaults below are our choices (3x3x3 'same' convolutions keep all 75 frames and the 28x28 grid, so
the LSTM sees every frame). The block order (conv, LeakyReLU, BN, dropout) is the one the document lists.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from emotrace.models.registry import register_model
from emotrace.models.seeds._common import SeedModel, xavier_init

SEED1_EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad")
"""Seed 1's six classes (CREMA-D's set), the meaning of output index i when num_classes=6."""


def conv3d_block(cin: int, cout: int, spatial_dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, 3, padding=1), nn.LeakyReLU(0.3), nn.BatchNorm3d(cout),
                         nn.Dropout3d(spatial_dropout))


class Seed1Conv3dLSTM(SeedModel):
    """Clip (N, 75, 3, 28, 28) = (batch, frame, RGB channel, height, width) in [0, 1] -> logits (N, num_classes).

    Internally the clip is permuted to Conv3d's (N, C, T, H, W); after the blocks each frame's feature map is
    flattened, giving an LSTM input of (N, T, filters * 28 * 28). `features(x)` is the 32-unit dense output.
    """

    input_spec: dict[str, Any] = {"kind": "clip", "frames": 75, "size": 28, "channels": 3}
    L2: float = 1e-4
    """Keras-style L2 factor on convolution kernels (loss += L2 * sum(w**2)); see `l2_penalty` and
    `weight_decay_groups` (SGD weight decay 2 * L2 is the same penalty)."""

    def __init__(self, layers: int = 6, num_classes: int = 6, filters: tuple[int, ...] = (16, 16, 16),
                 frames: int = 75, size: int = 28, channels: int = 3, spatial_dropout: float = 0.2,
                 lstm_dropout: float = 0.2, hidden: int = 64, dense: int = 32) -> None:
        super().__init__()
        if layers not in (5, 6, 7):
            raise ValueError(f"seed 1 has 5, 6 or 7 layers, not {layers}")
        n_blocks = layers - 4
        if len(filters) < n_blocks:
            raise ValueError(f"{layers} layers need {n_blocks} filter counts, got {filters}")
        self.input_spec = {"kind": "clip", "frames": frames, "size": size, "channels": channels}
        blocks, cin = [], channels
        for f in filters[:n_blocks]:
            blocks.append(conv3d_block(cin, f, spatial_dropout))
            cin = f
        self.blocks = nn.Sequential(*blocks)
        self.lstm_in_dropout = nn.Dropout(lstm_dropout)
        self.lstm = nn.LSTM(cin * size * size, hidden, batch_first=True)
        self.lstm_out_dropout = nn.Dropout(lstm_dropout)
        self.dense = nn.Sequential(nn.Linear(hidden, dense), nn.LeakyReLU(0.3))
        self.head = nn.Linear(dense, num_classes)
        self.embedding_dim = dense
        xavier_init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        n, t = x.shape[:2]
        y = self.blocks(x.permute(0, 2, 1, 3, 4))  # (N, F, T, H, W)
        y = y.permute(0, 2, 1, 3, 4).reshape(n, t, -1)
        out, _ = self.lstm(self.lstm_in_dropout(y))
        return self.dense(self.lstm_out_dropout(out[:, -1]))

    def l2_penalty(self) -> torch.Tensor:
        """The document's L2 kernel regularisation, to add to the loss (exact Keras semantics, any optimiser)."""
        return self.L2 * sum(m.weight.pow(2).sum() for m in self.modules() if isinstance(m, nn.Conv3d))

    def weight_decay_groups(self, weight_decay: float | None = None) -> list[dict[str, Any]]:
        """Optimizer parameter groups: decay on convolution kernels only (as the L2 regulariser), none elsewhere."""
        wd = 2 * self.L2 if weight_decay is None else weight_decay
        conv = [m.weight for m in self.modules() if isinstance(m, nn.Conv3d)]
        ids = {id(p) for p in conv}
        rest = [p for p in self.parameters() if id(p) not in ids]
        return [{"params": conv, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}]


@register_model("seed1-conv3d-lstm")
def seed1_conv3d_lstm(**kwargs: Any) -> Seed1Conv3dLSTM:
    """Seed 1's CNN-LSTM; `layers=5|6|7` (6 was the document's best: 78.5% CREMA-D test accuracy)."""
    return Seed1Conv3dLSTM(**kwargs)
