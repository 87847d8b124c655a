"""Distil task: a frame student learns from one or more trained teachers (run folders or shipped weights; several
teachers are an ensemble whose softened probabilities are averaged) on the same augmented FER+ batch, mixed with
the frame task's own loss on the labels: loss = (1 - w) * frame loss + w * T^2 * KL(teachers_T || student_T).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from emotrace.errors import EmotraceError
from emotrace.train.tasks.frame import FrameConfig, FrameTask


@dataclass
class DistillConfig(FrameConfig):
    """Teachers and the distillation mix on top of the frame task's fields."""

    task: str = "distill"
    teachers: tuple[str, ...] = field(default_factory=tuple)  # run folders, checkpoints or shipped names
    temperature: float = 4.0
    distill_weight: float = 0.7


class DistillTask(FrameTask):
    """Frame task whose main-head target is mixed with the teachers' softened predictions."""

    name = "distill"
    config_class = DistillConfig
    cfg: DistillConfig

    def setup(self, device: torch.device) -> None:
        from emotrace.models.checkpoint import load_model

        super().setup(device)
        if not self.cfg.teachers:
            raise EmotraceError("task distill needs teachers: a list of run folders or shipped model names")
        self.teachers = []
        for ref in self.cfg.teachers:
            t = load_model(ref)
            if tuple(t.classes) != tuple(self.classes):
                raise EmotraceError(f"teacher {ref} predicts {', '.join(t.classes)}; the student predicts "
                                    f"{', '.join(self.classes)} (set include_contempt to match)")
            self.teachers.append(t.model.to(device).eval())

    @torch.no_grad()
    def teacher_probs(self, x: torch.Tensor) -> torch.Tensor:
        """The teachers' mean probability at the distillation temperature."""
        probs = [F.softmax(t(x)["logits"].float() / self.cfg.temperature, 1) for t in self.teachers]
        return torch.stack(probs).mean(0)

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        out = model(batch["x"])
        t = self.cfg.temperature
        target = self.teacher_probs(batch["x"])
        log_student = F.log_softmax(out["logits"].float() / t, 1)
        kd = F.kl_div(log_student, target, reduction="batchmean") * t * t
        w = self.cfg.distill_weight
        return (1 - w) * self.head_losses(out, batch) + w * kd

    def sample_weights(self) -> np.ndarray | None:
        return None
