"""The training objective a config names, over the trainer's output and target dicts.

Outputs: {'logits': (N, C)} and/or {'va': (N, 2)}. Targets: {'y': (N,) class or -1, 'soft': (N, C) vote
distribution, 'va': (N, 2) with NaN where missing}. Rows without a target do not count towards the loss.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from emotrace.errors import EmotraceError
from emotrace.train import losses

Objective = Callable[[dict[str, torch.Tensor], dict[str, torch.Tensor]], torch.Tensor]


def make_objective(name: str, label_smoothing: float = 0.0, class_weights: torch.Tensor | None = None,
                   va_weight: float = 1.0) -> Objective:
    """`ce`, `soft_ce`, `ccc`, `mse` or `multitask` (classes + va_weight x CCC)."""
    ce = losses.CrossEntropy(label_smoothing=label_smoothing, class_weights=class_weights)
    soft_ce = losses.SoftCrossEntropy()

    def classes(out: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor]) -> torch.Tensor:
        y = tgt["y"]
        ok = y >= 0
        if not ok.any():
            return out["logits"].sum() * 0
        return ce.to(out["logits"].device)(out["logits"][ok], y[ok])

    def soft(out: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor]) -> torch.Tensor:
        if "soft" not in tgt:
            return classes(out, tgt)
        return soft_ce(out["logits"], tgt["soft"])

    def va(kind: str) -> Objective:
        def run(out: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor]) -> torch.Tensor:
            ok = ~torch.isnan(tgt["va"]).any(1)
            if ok.sum() < 2:
                return out["va"].sum() * 0
            pred, true = out["va"][ok], tgt["va"][ok]
            return 1 - losses.ccc(pred, true).mean() if kind == "ccc" else torch.nn.functional.mse_loss(pred, true)
        return run

    if name == "ce":
        return classes
    if name == "soft_ce":
        return soft
    if name in ("ccc", "mse"):
        return va(name)
    if name == "multitask":
        va_ccc = va("ccc")
        return lambda out, tgt: classes(out, tgt) + va_weight * va_ccc(out, tgt)
    raise EmotraceError(f"loss must be ce, soft_ce, ccc, mse or multitask, not {name!r}")
