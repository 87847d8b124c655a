"""The GPU teacher's training data as one compact file: every training row of a mix config (FER+ Train with its
vote distributions, and the photo sets' training groups as the pipeline's 48x48 crops) in uint8, with its target,
its sampling weight, its key (train/soft_labels.py) and FER+ Valid for monitoring.

Built on a CPU that has ../shared (`scripts/gpu_teacher.py cache`); the GPU machine has only the repository's
working tree, so the file lives in a git-ignored folder that travels with it (64 MiB at most): about 34 MB here.
The rows are exactly the student's (`MixTask.read_data`), held-out groups never among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emotrace.data.npz import save_npz
from emotrace.errors import EmotraceError

DEFAULT_CACHE = Path(".cache/teacher/train.npz")


@dataclass
class TeacherCache:
    """Training rows (images uint8 (N, S, S), targets (N, C) float, NaN where a row has none, weights (N,) for the
    sampler, keys), the class prior of the training draw, and FER+ Valid images with majority labels (-1: none)."""

    images: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    keys: np.ndarray
    prior: np.ndarray
    classes: tuple[str, ...]
    valid_images: np.ndarray
    valid_labels: np.ndarray
    config: dict[str, Any]

    def __len__(self) -> int:
        return len(self.images)


def build_cache(config: str | Path, out: str | Path = DEFAULT_CACHE, overrides: dict[str, Any] | None = None
                ) -> Path:
    """Read the mix config's training rows as its student reads them and save them compactly."""
    import json

    from emotrace.config import config_to_dict
    from emotrace.train.resolve import load_train_config
    from emotrace.train.tasks import create_task
    from emotrace.train.tasks.mix import MixTask

    cfg = load_train_config(config, overrides or {})
    task = create_task(cfg)
    if not isinstance(task, MixTask):
        raise EmotraceError(f"{config}: the teacher cache is built from a mix config (task: mix)")
    task.device = torch.device("cpu")
    task.read_data()
    valid = task.valid_split()
    return save_npz(out, compressed=True, images=task.x.numpy(), targets=task.y["main"].numpy().astype(np.float16),
                    weights=task.sample_weights().astype(np.float32), keys=np.asarray(task.row_keys, dtype=str),
                    prior=task.prior.astype(np.float32), classes=np.array(task.classes),
                    valid_images=valid.images, valid_labels=valid.majority_labels(),
                    config=np.array(json.dumps(config_to_dict(cfg))))


def load_cache(path: str | Path = DEFAULT_CACHE) -> TeacherCache:
    import json

    p = Path(path)
    if not p.is_file():
        raise EmotraceError(f"teacher cache {p} not found: build it with `python scripts/gpu_teacher.py cache` "
                            "where ../shared is, and carry it to the GPU machine")
    z = np.load(p, allow_pickle=False)
    return TeacherCache(z["images"], z["targets"].astype(np.float32), z["weights"], z["keys"], z["prior"],
                        tuple(str(c) for c in z["classes"]), z["valid_images"], z["valid_labels"],
                        json.loads(str(z["config"])))
