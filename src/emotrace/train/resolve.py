"""Read a training config file, apply `--set` overrides, and build the dataclass of the task it names.

    emotrace train configs/frame-m.yaml --set lr=0.001 --set arch_kwargs.num_classes=8 --dry-run

Values after `=` are parsed as YAML (numbers, booleans, lists); dotted keys reach into dict fields.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from emotrace.config import load_config, read_yaml_mapping
from emotrace.errors import EmotraceError
from emotrace.train.config import EngineConfig
from emotrace.train.tasks import TASKS


def parse_set(items: list[str] | None) -> dict[str, Any]:
    """`key=value` pairs (values as YAML; dotted keys reach into dict fields)."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise EmotraceError(f"--set takes key=value, not {item!r}")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    res = dict(base)
    for k, v in over.items():
        res[k] = _merge(res[k], v) if isinstance(v, dict) and isinstance(res.get(k), dict) else v
    return res


def load_train_config(path: str | Path, overrides: dict[str, Any] | None = None) -> EngineConfig:
    """The task's config dataclass from a YAML file plus overrides; unknown keys and tasks are errors."""
    p = Path(path)
    merged = _merge(read_yaml_mapping(p), overrides or {})
    task = merged.get("task")
    classes = {name: task.config_class for name, task in TASKS.items()}
    if task not in classes:
        raise EmotraceError(f"config {p}: `task:` must be one of {', '.join(sorted(classes))} (got {task!r})")
    merged = {k: v for k, v in merged.items() if v is not None}
    task_cls = classes[task]
    names = {f.name for f in dataclasses.fields(task_cls)}
    unknown = sorted(set(merged) - names)
    if unknown:
        raise EmotraceError(f"unknown config keys for task {task}: {', '.join(unknown)}")
    return load_config(task_cls, None, **merged)
