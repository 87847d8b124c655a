"""A teacher's answers written once per training image, and read back by the student's rows.

A teacher too big to run beside a CPU student (the GPU teacher, `scripts/gpu_teacher.py`) leaves one file: for
every training image its key (`ferplus/<image name>`, `<photo set>/<path under the set's folder>`) and its logits
in the balanced space (a logit-adjusted teacher's plain logits). The student looks its own rows up by the same
keys, so the file stays valid however the student orders, filters or caps its rows; rows the file lacks get no
distillation term. Logits, not probabilities, so the student can soften them at any temperature.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotrace.data.npz import save_npz
from emotrace.errors import EmotraceError


def photo_key(set_name: str, path: str | Path, root: str | Path) -> str:
    """A photo's key: its set and its path under the set's folder (the same wherever the folder lives)."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    return f"{set_name}/{Path(rel).as_posix()}"


def ferplus_key(name: str) -> str:
    return f"ferplus/{name}"


@dataclass
class SoftLabels:
    """Keys, balanced logits (N, C) and the classes of their columns."""

    keys: np.ndarray
    logits: np.ndarray
    classes: tuple[str, ...]

    def lookup(self, keys: list[str] | np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
        """Logits (len(keys), C) float32 for the student's rows, NaN rows where a key is missing."""
        if tuple(classes) != self.classes:
            raise EmotraceError(f"soft labels are over {', '.join(self.classes)}; the student predicts "
                                f"{', '.join(classes)} (set include_contempt to match)")
        index = {k: i for i, k in enumerate(self.keys.tolist())}
        out = np.full((len(keys), len(classes)), np.nan, np.float32)
        rows = [(j, index[k]) for j, k in enumerate(keys) if k in index]
        if not rows:
            raise EmotraceError("no training row of the student is in the soft-labels file (another data set?)")
        dst, src = (np.array(v) for v in zip(*rows, strict=True))
        out[dst] = self.logits[src].astype(np.float32)
        return out


def write_soft_labels(path: str | Path, keys: list[str] | np.ndarray, logits: np.ndarray,
                      classes: tuple[str, ...]) -> Path:
    """Save in float16 (a 30,000-image set is under 1 MB compressed)."""
    if len(keys) != len(logits):
        raise EmotraceError(f"{len(keys)} keys for {len(logits)} rows of logits")
    return save_npz(path, compressed=True, keys=np.asarray(keys, dtype=str), logits=logits.astype(np.float16),
                    classes=np.array(classes))


def read_soft_labels(path: str | Path) -> SoftLabels:
    p = Path(path).expanduser()
    if not p.is_file():
        raise EmotraceError(f"soft-labels file {p} not found (scripts/gpu_teacher.py train writes it)")
    z = np.load(p, allow_pickle=False)
    return SoftLabels(z["keys"], z["logits"], tuple(str(c) for c in z["classes"]))
