"""Training tasks by name: each supplies model, data, loss and metrics to the one engine (`train/engine.py`).

- `frame`: the frame CNN on FER+ (soft or hard targets, FER2013 and valence/arousal heads);
- `classify`: any architecture on any dataset (stills, clips, sequences, embedding windows): the seed models;
- `temporal`: the per-track LSTM/GRU over a frozen frame model's embeddings;
- `mix`: the frame CNN on FER+ and the photo datasets (CK+, TFEID, SFEW) with balancing: frame model v2;
- `distill`: a frame student taught by one or more trained teachers.
"""

from __future__ import annotations

from emotrace.errors import EmotraceError
from emotrace.train.config import EngineConfig
from emotrace.train.tasks.base import Task
from emotrace.train.tasks.classify import ClassifyTask
from emotrace.train.tasks.distill import DistillTask
from emotrace.train.tasks.frame import FrameTask
from emotrace.train.tasks.mix import MixTask
from emotrace.train.tasks.temporal import TemporalTask

TASKS: dict[str, type[Task]] = {t.name: t for t in (FrameTask, MixTask, ClassifyTask, TemporalTask, DistillTask)}


def create_task(cfg: EngineConfig) -> Task:
    """The task `cfg.task` names, configured by `cfg`."""
    if cfg.task not in TASKS:
        raise EmotraceError(f"unknown task {cfg.task!r} (known: {', '.join(sorted(TASKS))})")
    task_cls = TASKS[cfg.task]
    if not isinstance(cfg, task_cls.config_class):
        raise EmotraceError(f"task {cfg.task} needs a {task_cls.config_class.__name__}")
    return task_cls(cfg)


__all__ = ["TASKS", "Task", "create_task"]
