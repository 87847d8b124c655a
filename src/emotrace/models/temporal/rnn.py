"""LSTM/GRU temporal models that run statefully, one step per frame per track.

`forward` takes whole sequences (training); `step` takes one frame per track plus that track's state (inference),
so state lives with the track in the pipeline and dies with it.
"""

from __future__ import annotations

import torch
from torch import nn

from emotrace.labels import EMOTIONS
from emotrace.models.registry import register_model


class TemporalRNN(nn.Module):
    """Embedding sequence (N, T, D) -> per-step logits (N, T, C) and optional valence/arousal (N, T, 2)."""

    def __init__(self, input_dim: int = 128, hidden: int = 64, layers: int = 1, cell: str = "gru",
                 num_classes: int = len(EMOTIONS), dropout: float = 0.0, valence_arousal: bool = False) -> None:
        super().__init__()
        rnn_cls = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.cell = cell
        self.input_spec = {"kind": "features", "frames": None, "size": None, "channels": input_dim}
        self.rnn = rnn_cls(input_dim, hidden, num_layers=layers, batch_first=True,
                           dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, num_classes)
        self.va_head = nn.Linear(hidden, 2) if valence_arousal else None

    def forward(self, x: torch.Tensor, state: object = None) -> tuple[dict[str, torch.Tensor], object]:
        out, state = self.rnn(x, state)
        res = {"logits": self.head(out)}
        if self.va_head is not None:
            res["valence_arousal"] = torch.tanh(self.va_head(out))
        return res, state

    @torch.no_grad()
    def step(self, x: torch.Tensor, state: object = None) -> tuple[dict[str, torch.Tensor], object]:
        """One frame for a batch of tracks: x (N, D) -> outputs (N, C) and the new state."""
        res, state = self.forward(x[:, None, :], state)
        return {k: v[:, 0] for k, v in res.items()}, state


@register_model("emotrace-gru")
def emotrace_gru(**kwargs: object) -> TemporalRNN:
    return TemporalRNN(cell="gru", **kwargs)  # type: ignore[arg-type]


@register_model("emotrace-lstm")
def emotrace_lstm(**kwargs: object) -> TemporalRNN:
    return TemporalRNN(cell="lstm", **kwargs)  # type: ignore[arg-type]
