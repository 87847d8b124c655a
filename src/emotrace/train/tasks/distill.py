"""Distil task: a frame student on FER+ that must learn from teachers (run folders or shipped weights; several are
an ensemble, train/tasks/teachers.py), mixed with the frame task's own loss on the labels:
loss = (1 - w) * frame loss + w * T^2 * KL(teachers_T || student_T). Any frame or mix config can name `teachers`
too; this task only makes them required.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from emotrace.errors import EmotraceError
from emotrace.train.tasks.frame import FrameConfig, FrameTask


@dataclass
class DistillConfig(FrameConfig):
    """The frame task's fields; `teachers` must name at least one model."""

    task: str = "distill"


class DistillTask(FrameTask):
    """Frame task whose main-head target is mixed with the teachers' softened predictions."""

    name = "distill"
    config_class = DistillConfig
    cfg: DistillConfig

    def setup(self, device: torch.device) -> None:
        if not self.cfg.teachers and not self.cfg.teacher_labels:
            raise EmotraceError("task distill needs teachers: a list of run folders or shipped model names")
        super().setup(device)
