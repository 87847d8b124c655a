"""The Sink interface and the temp-then-rename discipline every sink follows."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotrace.results import FrameResult


@dataclass
class RunMeta:
    """What a sink needs to know about the run before the first frame arrives."""

    source: str
    classes: list[str]
    fps: float | None
    analyzer: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    incomplete: str | None = None  # set before `close` when the source ended early (why), e.g. a truncated file


_RUN_TAG = secrets.token_hex(4)  # per process: two runs never share a temporary name, even across machines


def atomic_path(path: Path) -> Path:
    """The temporary name a sink writes to before renaming onto `path` (same folder, so rename is atomic); unique
    to this process, so another run into the same folder can never write into it."""
    return path.with_name(f".{path.name}.{os.getpid()}-{_RUN_TAG}.part")


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

    def output_folder(self) -> Path | None:
        """The folder this sink publishes into (locked for the run by `emotrace.api.run`): its `folder`, else the
        folder of its `path`."""
        folder = getattr(self, "folder", None)
        if folder is not None:
            return Path(folder)
        path = getattr(self, "path", None)
        return Path(path).parent if path is not None else None


def publish(tmp: Path, final: Path) -> Path:
    os.replace(tmp, final)
    return final


def discard(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
