"""Plain YAML over dataclasses: a config file is the dataclass's fields, nothing more."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

from emotrace.errors import EmotraceError

T = TypeVar("T")


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """A config file's `field: value` mapping, or a one-line error (missing, not YAML, not a mapping)."""
    p = Path(path)
    if not p.is_file():
        raise EmotraceError(f"config not found: {p}")
    try:
        loaded = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise EmotraceError(f"config {p} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(loaded, dict):
        raise EmotraceError(f"config {p} must be a mapping of field: value")
    return loaded


def load_config(cls: type[T], path: str | Path | None = None, **overrides: Any) -> T:
    """Build dataclass `cls` from a YAML file (unknown keys are an error) and keyword overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        values.update(read_yaml_mapping(path))
    values.update({k: v for k, v in overrides.items() if v is not None})
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - names)
    if unknown:
        raise EmotraceError(f"unknown config keys for {cls.__name__}: {', '.join(unknown)}")
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in values and isinstance(values[f.name], list):
            values[f.name] = tuple(values[f.name])
    return cls(**values)


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """The dataclass as plain data, for reports and checkpoints."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(cfg).items()}
