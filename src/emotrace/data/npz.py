"""Arrays saved as one `.npz` file, whole or not at all: written through a name unique to the process, then renamed,
so a crash leaves no half file and two processes filling one cache never write the same temporary file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def save_npz(path: str | Path, compressed: bool = False, **arrays: np.ndarray) -> Path:
    """Write `arrays` to `path` atomically; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as fh:
            (np.savez_compressed if compressed else np.savez)(fh, **arrays)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
