"""The Sink interface and the temp-then-rename discipline every sink follows."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotrace.pipeline import FrameResult


@dataclass
class RunMeta:
    """What a sink needs to know about the run before the first frame arrives."""

    source: str
    classes: list[str]
    fps: float | None
    analyzer: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)


def atomic_path(path: Path) -> Path:
    """The temporary name a sink writes to before renaming onto `path` (same folder, so rename is atomic)."""
    return path.with_name(f".{path.name}.part")


class Sink:
    """Receives every FrameResult in order; `close` publishes the files and returns their paths."""

    def open(self, meta: RunMeta) -> None:
        self.meta = meta

    def write(self, result: FrameResult) -> None:
        raise NotImplementedError

    def close(self) -> list[Path]:
        raise NotImplementedError

    def abort(self) -> None:
        """Drop everything written so far (the run failed)."""


def publish(tmp: Path, final: Path) -> Path:
    os.replace(tmp, final)
    return final


def discard(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
