"""Offline temporal model: a time-aware forward RNN (the past) plus a learned summary of a fixed look-ahead window
(the future): bidirectional over a bounded window.

Why a window and not a bidirectional RNN over whole tracks: memory and latency on hour-long files. The output of
frame k reads the forward state (everything before k) and the frames within `lookahead_s` after k, summarised as
weighted means of projected embeddings under a few learned time kernels exp(-ahead / tau_i) (weights normalised
over the window, so 15, 30 and 60 fps give the same summary of the same signal). Training computes exactly that
for every k, so the pipeline, which holds only the last `lookahead_s` of each track and emits each result
`lookahead_s` late, gives the numbers training saw. A gap longer than `reset_s` ahead of k ends the window.
Why kernels and not a backward RNN over each window: the same look-ahead at a twentieth of the training cost
(a backward RNN per window is T x W cell steps per sequence; a 2-core CPU trains this in minutes).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from emotrace.labels import EMOTIONS
from emotrace.models.registry import register_model
from emotrace.models.temporal.timed import TimeAwareRNN


class LookaheadRNN(nn.Module):
    """Embeddings (N, T, D), intervals dt (N, T) -> logits (N, T, C) [+ valence/arousal], each from the past and
    at most `lookahead_s` of the future."""

    time_aware = True
    offline = True

    def __init__(self, input_dim: int = 128, hidden: int = 64, proj: int = 32, kernels: int = 3,
                 cell: str = "gru", num_classes: int = len(EMOTIONS), valence_arousal: bool = False,
                 reset_s: float = 1.0, lookahead_s: float = 0.4, max_fps: float = 60.0) -> None:
        super().__init__()
        self.input_spec = {"kind": "features", "frames": None, "size": None, "channels": input_dim}
        self.lookahead_s = lookahead_s
        self.reset_s = reset_s
        self.window = int(math.ceil(lookahead_s * max_fps)) + 1  # frames a window may hold (k itself included)
        self.hidden = hidden
        self.fwd = TimeAwareRNN(input_dim, hidden, cell=cell, num_classes=1, reset_s=reset_s)
        self.proj = nn.Sequential(nn.Linear(input_dim, proj), nn.GELU())
        self.log_tau = nn.Parameter(torch.log(torch.linspace(0.05, lookahead_s, kernels)))
        width = hidden + proj * kernels
        self.head = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, num_classes))
        self.va_head = nn.Linear(width, 2) if valence_arousal else None

    @property
    def state_size(self) -> int:
        return self.fwd.state_size

    def init_state(self, n: int) -> torch.Tensor:
        return self.fwd.init_state(n)

    def summary(self, p: torch.Tensor, ahead: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Look-ahead summary of windows: projected inputs p (..., W, P) of frames k..k+W-1, seconds ahead of k
        (..., W), valid (..., W) -> (..., K * P)."""
        w = torch.exp(-ahead[..., None] / self.log_tau.exp()) * valid[..., None]  # (..., W, K)
        w = w / w.sum(-2, keepdim=True).clamp(min=1e-6)
        return torch.einsum("...wk,...wp->...kp", w, p).flatten(-2)

    def combine(self, fwd_h: torch.Tensor, ahead: torch.Tensor) -> dict[str, torch.Tensor]:
        z = torch.cat([fwd_h[..., :self.hidden], ahead], -1)
        res = {"logits": self.head(z)}
        if self.va_head is not None:
            res["valence_arousal"] = torch.tanh(self.va_head(z))
        return res

    def forward(self, x: torch.Tensor, dt: torch.Tensor | None = None,
                state: torch.Tensor | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        t = x.shape[1]
        hs, h, dt = self.fwd.states(x, dt, state)
        p = self.proj(x)
        w = min(self.window, t)
        pos = torch.arange(t, device=x.device)[:, None] + torch.arange(w, device=x.device)[None]
        idx = pos.clamp(max=t - 1)
        clock = dt.cumsum(1)
        ahead = clock[:, idx] - clock[:, :, None]  # (N, T, W)
        gap = (dt > self.reset_s).to(torch.int64).cumsum(1)  # a long gap ends the window
        valid = (pos < t)[None] & (ahead <= self.lookahead_s + 1e-6) & (gap[:, idx] == gap[:, :, None])
        return self.combine(hs, self.summary(p[:, idx], ahead, valid)), h


    @torch.no_grad()
    def step(self, x: torch.Tensor, dt: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """The forward (causal) half of one frame: (N, D), (N,), (N, S) -> the new forward state."""
        return self.fwd._advance(x, dt, state)

    def window_step(self, state: torch.Tensor, window: torch.Tensor, ahead: torch.Tensor,
                    valid: torch.Tensor) -> dict[str, torch.Tensor]:
        """The output of frame k from its forward state (after frame k) and its look-ahead window: window (N, W, D)
        the embeddings of frames k.. (k first), ahead (N, W) seconds after k, valid (N, W). What the pipeline and
        the ONNX file run per frame once its window is complete."""
        return self.combine(state, self.summary(self.proj(window), ahead, valid))


@register_model("emotrace-lookahead-gru")
def emotrace_lookahead_gru(**kwargs: object) -> LookaheadRNN:
    return LookaheadRNN(cell="gru", **kwargs)  # type: ignore[arg-type]


@register_model("emotrace-lookahead-lstm")
def emotrace_lookahead_lstm(**kwargs: object) -> LookaheadRNN:
    return LookaheadRNN(cell="lstm", **kwargs)  # type: ignore[arg-type]
