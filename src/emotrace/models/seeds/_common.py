"""What the seed models share: the forward/features contract and Xavier (Glorot) initialisation."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class SeedModel(nn.Module):
    """Base: subclasses define `features(x)` and `head`; `forward` chains them (see the package docstring)."""

    input_spec: dict[str, Any] = {}
    output: str = "classes"
    head: nn.Module

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, return_features: bool = False) -> Any:
        emb = self.features(x)
        out = self.head(emb)
        return (out, emb) if return_features else out


def xavier_init(module: nn.Module) -> None:
    """Glorot-uniform weights and zero biases, Keras' defaults, which the seeds' Keras models trained with."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.LSTM, nn.GRU, nn.RNN)):
            for name, p in m.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(p)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(p)  # Keras' recurrent_initializer
                else:
                    nn.init.zeros_(p)
