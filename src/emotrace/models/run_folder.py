"""A training run's folder: the one place that names its files and reads or writes what a run keeps.

The engine writes it, `load_model` finds the run's model in it, and `emotrace evaluate`, `export` and `ship` read
it; none of them spells a file name. Besides checkpoints and logs, a run keeps what it must hand on to be shipped
later without re-reading its data: the class prior it trained against (`prior.json`), which `ship --prior-shift`
needs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emotrace.errors import EmotraceError


def write_json_atomic(path: Path, data: Any) -> None:
    """JSON through a unique temporary name, so a crash never leaves a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(json.dumps(data, indent=2, default=float) + "\n")
    os.replace(tmp, path)


def _file(name: str) -> property:
    return property(lambda self: self.path / name, doc=f"the run's {name}")


@dataclass(frozen=True)
class RunFolder:
    """`RunFolder(path)`: the files of one training run (or one fold of a k-fold)."""

    path: Path

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path).expanduser())

    # -- file names, stated once
    config = _file("config.yaml")  # the resolved config
    info_file = _file("run.json")  # task, which checkpoint is the model, device, time, command, commit
    best = _file("best.pt")
    final = _file("final.pt")
    last = _file("last.pt")  # the whole training state, for --resume
    log = _file("metrics.csv")  # one row per epoch
    tensorboard = _file("tensorboard")
    metrics = _file("metrics.json")  # the run's evaluation
    prior_file = _file("prior.json")
    crossval = _file("crossval.json")  # a k-fold's summary

    def fold(self, k: int) -> RunFolder:
        """Fold k of a k-fold run kept in this folder."""
        return RunFolder(self.path / f"fold{k}")

    # -- what a run records
    def info(self) -> dict[str, Any]:
        """run.json (task, which checkpoint is the model, device, time, command, commit), or {} before the end."""
        return json.loads(self.info_file.read_text()) if self.info_file.is_file() else {}

    def write_info(self, info: dict[str, Any]) -> None:
        write_json_atomic(self.info_file, info)

    def model_checkpoint(self) -> Path:
        """The checkpoint that is the run's model: the one run.json names, else best.pt."""
        name = self.info().get("checkpoint")
        if name and (self.path / name).is_file():
            return self.path / name
        if self.best.is_file():
            return self.best
        raise EmotraceError(f"{self.path} holds no finished training run (no run.json or best.pt)")

    def finished_metrics(self) -> dict[str, Any] | None:
        """The final evaluation a finished run wrote (metrics.json), or None."""
        return json.loads(self.metrics.read_text()) if self.metrics.is_file() else None

    def save_prior(self, prior: np.ndarray, what: str) -> None:
        """The class prior the run trained against (`what` says how it was measured)."""
        write_json_atomic(self.prior_file, {"prior": [float(p) for p in prior], "what": what})

    def prior(self) -> np.ndarray:
        """The saved class prior; a clear error for a run that saved none."""
        if not self.prior_file.is_file():
            raise EmotraceError(f"{self.path} saved no training prior ({self.prior_file.name}): it was trained "
                                "before runs kept one, or by a task without a class prior; train it again")
        return np.asarray(json.loads(self.prior_file.read_text())["prior"], np.float64)
