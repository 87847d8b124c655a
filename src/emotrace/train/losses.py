"""Loss functions the seeds train with: cross-entropy (label smoothing, class weights), soft-label cross-entropy
for FER+ vote distributions, and seed 4's concordance loss 1 - (CCC_v + CCC_a) / 2 for valence/arousal."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_entropy(logits: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0,
                  weight: torch.Tensor | None = None) -> torch.Tensor:
    return F.cross_entropy(logits, y, weight=weight, label_smoothing=label_smoothing)


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against a distribution (rows sum to 1): the FER+ paper's probabilistic target."""
    return -(target * F.log_softmax(logits, 1)).sum(1).mean()


def ccc(pred: torch.Tensor, true: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Concordance correlation coefficient per column: 2 cov / (var_p + var_t + (mean_p - mean_t)^2)."""
    mp, mt = pred.mean(0), true.mean(0)
    vp, vt = pred.var(0, unbiased=False), true.var(0, unbiased=False)
    cov = ((pred - mp) * (true - mt)).mean(0)
    return 2 * cov / (vp + vt + (mp - mt) ** 2 + eps)


def ccc_loss(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """1 - mean CCC over valence and arousal (seed 4)."""
    return 1 - ccc(pred, true).mean()
