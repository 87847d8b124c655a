"""Time-aware GRU/LSTM: each step is told the seconds since the track's previous observation.

Why: a plain RNN steps once per frame, so 60 fps video moves it twice as fast as 30 fps video, and nothing tells it
that a track came back after a gap. Here each step

- forgets: the state decays by exp(-dt / memory_s) per unit (learned time constants) and is zeroed when dt exceeds
  `reset_s` (a long gap; a shot cut ends the track, so the next frame starts a new one), and that step is then
  taken as a track's first (dt = 1/30 s), so a track after a gap behaves exactly like a new one;
- moves by a time-scaled amount: h <- h + (1 - exp(-dt / tau)) (cell(x, h) - h), with tau learned per unit, so two
  half steps at 60 fps move it about as far as one step at 30 fps;
- sees log(dt * 30) as an extra input, so it can learn what remains.

The state is one tensor per track, (N, S): h for the GRU, h and c concatenated for the LSTM, so a stage stacks and
slices tracks' states with one `torch.cat`, and the ONNX step has one state input and output.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from emotrace.labels import EMOTIONS
from emotrace.models.registry import register_model

BASE_DT = 1.0 / 30.0  # the frame interval the model is parameterised around (rendered sequences are 30 fps)


class TimeAwareRNN(nn.Module):
    """Embeddings (N, T, D) and intervals dt (N, T) in seconds -> logits (N, T, C) [+ valence/arousal (N, T, 2)]."""

    time_aware = True

    def __init__(self, input_dim: int = 128, hidden: int = 64, cell: str = "gru", num_classes: int = len(EMOTIONS),
                 valence_arousal: bool = False, reset_s: float = 1.0, memory_s: float = 2.0,
                 tau_s: float = BASE_DT) -> None:
        super().__init__()
        self.cell_kind = cell
        self.hidden = hidden
        self.reset_s = reset_s
        self.input_spec = {"kind": "features", "frames": None, "size": None, "channels": input_dim}
        self.cell = (nn.GRUCell if cell == "gru" else nn.LSTMCell)(input_dim + 1, hidden)
        width = hidden * (2 if cell == "lstm" else 1)
        self.log_tau = nn.Parameter(torch.full((width,), math.log(tau_s)))
        self.log_memory = nn.Parameter(torch.full((width,), math.log(memory_s)))
        self.head = nn.Linear(hidden, num_classes)
        self.va_head = nn.Linear(hidden, 2) if valence_arousal else None

    @property
    def state_size(self) -> int:
        return self.hidden * (2 if self.cell_kind == "lstm" else 1)

    def init_state(self, n: int) -> torch.Tensor:
        return torch.zeros(n, self.state_size)

    def _advance(self, x: torch.Tensor, dt: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """One step for (N, D) inputs, (N,) intervals and (N, S) states -> new (N, S) states."""
        dt = dt.clamp(min=1e-4)[:, None]
        keep = (dt <= self.reset_s).to(state.dtype)
        state = state * torch.exp(-dt / self.log_memory.exp()) * keep
        dt = dt * keep + BASE_DT * (1 - keep)  # after a reset the step is a track's first: as if at 30 fps
        feat = torch.cat([x, torch.log(dt / BASE_DT).clamp(-3.0, 3.0)], 1)
        if self.cell_kind == "lstm":
            h, c = state[:, :self.hidden], state[:, self.hidden:]
            h2, c2 = self.cell(feat, (h, c))
            cand = torch.cat([h2, c2], 1)
        else:
            cand = self.cell(feat, state)
        rate = 1.0 - torch.exp(-dt / self.log_tau.exp())
        return state + rate * (cand - state)

    def _heads(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        out = h[..., :self.hidden]
        res = {"logits": self.head(out)}
        if self.va_head is not None:
            res["valence_arousal"] = torch.tanh(self.va_head(out))
        return res

    def states(self, x: torch.Tensor, dt: torch.Tensor | None = None, state: torch.Tensor | None = None,
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every step's state over sequences x (N, T, D) at intervals dt (N, T; 30 fps when None) from `state`
        (zeros when None): (N, T, S) states, the last state, and the intervals used."""
        n, t = x.shape[:2]
        if dt is None:
            dt = torch.full((n, t), BASE_DT, dtype=x.dtype, device=x.device)
        h = state if state is not None else self.init_state(n).to(x)
        hs = []
        for k in range(t):
            h = self._advance(x[:, k], dt[:, k], h)
            hs.append(h)
        return torch.stack(hs, 1), h, dt

    def forward(self, x: torch.Tensor, dt: torch.Tensor | None = None,
                state: torch.Tensor | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        hs, h, _ = self.states(x, dt, state)
        return self._heads(hs), h

    @torch.no_grad()
    def step(self, x: torch.Tensor, dt: torch.Tensor, state: torch.Tensor) -> tuple[dict[str, torch.Tensor],
                                                                                   torch.Tensor]:
        """One frame for a batch of tracks: x (N, D), dt (N,) seconds, state (N, S) -> outputs (N, C), new state."""
        h = self._advance(x, dt, state)
        return self._heads(h), h


@register_model("emotrace-tgru")
def emotrace_tgru(**kwargs: object) -> TimeAwareRNN:
    return TimeAwareRNN(cell="gru", **kwargs)  # type: ignore[arg-type]


@register_model("emotrace-tlstm")
def emotrace_tlstm(**kwargs: object) -> TimeAwareRNN:
    return TimeAwareRNN(cell="lstm", **kwargs)  # type: ignore[arg-type]
