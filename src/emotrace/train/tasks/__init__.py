"""Training tasks by name: each supplies model, data, loss and metrics to the one engine (`train/engine.py`).

- `frame`: the frame CNN on FER+ (soft or hard targets, FER2013 and valence/arousal heads);
- `classify`: any architecture on any dataset (stills, clips, sequences, embedding windows): the seed models;
- `temporal`: the per-track LSTM/GRU over a frozen frame model's embeddings;
- `mix`: the frame CNN on FER+ and the photo datasets (CK+, TFEID, SFEW) with balancing: frame model v2;
- `distill`: a frame student taught by one or more trained teachers.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from emotrace.config import load_config
from emotrace.errors import EmotraceError
from emotrace.train.config import EngineConfig
from emotrace.train.tasks.base import PLAIN, EvalRequest, Task
from emotrace.train.tasks.classify import ClassifyTask
from emotrace.train.tasks.distill import DistillTask
from emotrace.train.tasks.frame import FrameTask
from emotrace.train.tasks.mix import MixTask
from emotrace.train.tasks.temporal import TemporalTask

if TYPE_CHECKING:
    from emotrace.models.checkpoint import LoadedModel

TASKS: dict[str, type[Task]] = {t.name: t for t in (FrameTask, MixTask, ClassifyTask, TemporalTask, DistillTask)}


def create_task(cfg: EngineConfig) -> Task:
    """The task `cfg.task` names, configured by `cfg`."""
    if cfg.task not in TASKS:
        raise EmotraceError(f"unknown task {cfg.task!r} (known: {', '.join(sorted(TASKS))})")
    task_cls = TASKS[cfg.task]
    if not isinstance(cfg, task_cls.config_class):
        raise EmotraceError(f"task {cfg.task} needs a {task_cls.config_class.__name__}")
    return task_cls(cfg)


def task_for(loaded: LoadedModel) -> Task:
    """The task that trained `loaded` (run.json / checkpoint, or the manifest), configured as its run was: what
    `emotrace evaluate` and `emotrace ship` score it with. Fields a newer version no longer has are left out."""
    if loaded.task not in TASKS:
        raise EmotraceError(f"{loaded.ref} was trained by task {loaded.task!r}, which this version does not know "
                            f"(known: {', '.join(sorted(TASKS))})")
    task_cls = TASKS[loaded.task]
    names = {f.name for f in dataclasses.fields(task_cls.config_class)}
    values = {k: v for k, v in loaded.config.items() if k in names and v is not None}
    return task_cls(load_config(task_cls.config_class, None, **{**values, "task": loaded.task}))


__all__ = ["PLAIN", "TASKS", "EvalRequest", "Task", "create_task", "task_for"]
