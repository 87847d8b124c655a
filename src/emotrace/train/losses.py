"""Training losses by name: class cross-entropy (hard or vote-distribution targets), CCC and MSE for
valence/arousal, and their weighted multi-task sum. Every loss is an `nn.Module` called as `loss(pred, target)`.

CCC is Lin's concordance correlation coefficient, the Aff-Wild2 metric seed 4 trains on:
ccc = 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2), with population (biased) moments over the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def _weight(class_weights: Sequence[float] | torch.Tensor | None) -> torch.Tensor | None:
    return None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)


class CrossEntropy(nn.Module):
    """Hard labels (N,) or (N, T) against logits (N, C) or (N, T, C); label smoothing and class weights
    (e.g. inverse class frequency) for unbalanced sets; labels equal to `ignore_index` do not count."""

    def __init__(self, label_smoothing: float = 0.0, class_weights: Sequence[float] | torch.Tensor | None = None,
                 ignore_index: int = -100) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing
        self.ignore_index = ignore_index
        self.register_buffer("class_weights", _weight(class_weights), persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1).long(),
                               weight=self.class_weights, ignore_index=self.ignore_index,
                               label_smoothing=self.label_smoothing)


class SoftCrossEntropy(nn.Module):
    """Cross-entropy against a target distribution (N, C), e.g. FER+ annotator votes; rows are normalised to sum
    to 1, so raw vote counts work. Optional class weights scale each class's term."""

    def __init__(self, class_weights: Sequence[float] | torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("class_weights", _weight(class_weights), persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits = logits.reshape(-1, logits.shape[-1])
        p = target.reshape(-1, target.shape[-1]).to(logits.dtype)
        p = p / p.sum(1, keepdim=True).clamp_min(1e-12)
        if self.class_weights is not None:
            p = p * self.class_weights
        return -(p * F.log_softmax(logits, 1)).sum(1).mean()


def ccc(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Concordance correlation coefficient per column: (N, D) x (N, D) -> (D,) (a 1-D input gives a scalar)."""
    pm, tm = pred.mean(0), target.mean(0)
    cov = ((pred - pm) * (target - tm)).mean(0)
    return 2 * cov / (pred.var(0, unbiased=False) + target.var(0, unbiased=False) + (pm - tm) ** 2 + eps)


class CCCLoss(nn.Module):
    """1 - mean CCC over the columns: for (valence, arousal) that is 1 - (CCC_v + CCC_a) / 2 (seed 4, Eq. 3).
    Rows with a NaN target (unannotated frames) are dropped. Needs batches of more than one row."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pred, target = pred.reshape(-1, pred.shape[-1]), target.reshape(-1, target.shape[-1]).to(pred.dtype)
        keep = ~torch.isnan(target).any(1)
        return 1 - ccc(pred[keep], target[keep]).mean()


class MSELoss(nn.Module):
    """Mean squared error; rows with a NaN target are dropped."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pred, target = pred.reshape(-1, pred.shape[-1]), target.reshape(-1, target.shape[-1]).to(pred.dtype)
        keep = ~torch.isnan(target).any(1)
        return F.mse_loss(pred[keep], target[keep])


class MultiTaskLoss(nn.Module):
    """Weighted sum of a class loss and a valence/arousal loss, for models with both heads.

    `pred` and `target` are dicts: pred {"logits": (N, C), "va": (N, 2)}, target {"label": (N,) or (N, C) votes,
    "va": (N, 2)}. A task missing from `target` is skipped, so mixed-annotation datasets can share a loop.
    """

    def __init__(self, class_weight: float = 1.0, va_weight: float = 1.0, class_loss: str = "ce",
                 va_loss: str = "ccc", **class_kw: Any) -> None:
        super().__init__()
        self.class_weight, self.va_weight = class_weight, va_weight
        self.class_loss = make_loss(class_loss, **class_kw)
        self.va_loss = make_loss(va_loss)

    def forward(self, pred: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> torch.Tensor:
        total = pred[next(iter(pred))].new_zeros(())
        if "label" in target and self.class_weight:
            total = total + self.class_weight * self.class_loss(pred["logits"], target["label"])
        if "va" in target and self.va_weight:
            total = total + self.va_weight * self.va_loss(pred["va"], target["va"])
        return total


LOSSES: dict[str, type[nn.Module]] = {
    "ce": CrossEntropy, "cross_entropy": CrossEntropy, "soft_ce": SoftCrossEntropy, "ccc": CCCLoss,
    "mse": MSELoss, "multitask": MultiTaskLoss,
}


def make_loss(name: str, **kw: Any) -> nn.Module:
    """Build a loss by name: ce | cross_entropy | soft_ce | ccc | mse | multitask, with its keyword arguments."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r} (known: {', '.join(sorted(LOSSES))})")
    return LOSSES[name](**kw)
