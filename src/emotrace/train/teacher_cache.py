"""The GPU teacher's training data as one compact file: every training row of a mix config (FER+ Train with its
vote distributions, and the photo sets' training groups as the pipeline's 48x48 crops) in uint8, with its target,
its sampling weight, its key (train/soft_labels.py) and FER+ Valid for monitoring.

Built on a CPU that has ../shared (`scripts/gpu_teacher.py cache`); the GPU machine has only the repository's
working tree, so the file lives in a git-ignored folder that travels with it (64 MiB at most, weights included).
Plain uint8 48x48 crops compress to 71 MiB (zlib finds little in faces), too much; so each pixel is stored as its
residual from the mean of its left and upper neighbours, after dropping the `drop_bits` lowest bits (2: an error
of at most 2/255, under the augmentation's own noise), which zlib takes to about half: 35.7 MiB here. Decoding needs
numpy only. The rows are exactly the student's (`MixTask.read_data`), held-out groups never among them.
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
VALID_ROWS = 1000  # FER+ Valid images kept for the teacher's progress line (not for any choice)


def _predict(q: np.ndarray, i: int, j: int) -> np.ndarray:
    """The prediction of pixel (i, j) of every image from its reconstructed left and upper neighbours."""
    if i and j:
        return (q[:, i, j - 1] + q[:, i - 1, j]) // 2
    if j:
        return q[:, i, j - 1]
    if i:
        return q[:, i - 1, j]
    return np.zeros(len(q), np.int16)


def pack_images(images: np.ndarray, drop_bits: int) -> np.ndarray:
    """uint8 (N, S, S) -> residuals uint8 (N, S, S) of the quantised pixels against their prediction."""
    q = (images >> drop_bits).astype(np.int16)
    pred = np.zeros_like(q)
    pred[:, 1:, 1:] = (q[:, 1:, :-1] + q[:, :-1, 1:]) // 2
    pred[:, 0, 1:] = q[:, 0, :-1]
    pred[:, 1:, 0] = q[:, :-1, 0]
    return ((q - pred) % 256).astype(np.uint8)


def unpack_images(residuals: np.ndarray, drop_bits: int) -> np.ndarray:
    """The inverse of `pack_images`, pixel by pixel over all images at once; quantised values put back at the
    middle of their bin."""
    n, h, w = residuals.shape
    q = np.zeros((n, h, w), np.int16)
    r = residuals.astype(np.int16)
    for i in range(h):
        for j in range(w):
            q[:, i, j] = (r[:, i, j] + _predict(q, i, j)) % 256
    half = (1 << drop_bits) >> 1
    return np.clip((q.astype(np.int32) << drop_bits) + half, 0, 255).astype(np.uint8)


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


def build_cache(config: str | Path, out: str | Path = DEFAULT_CACHE, overrides: dict[str, Any] | None = None,
                drop_bits: int = 2) -> Path:
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
    keep = np.random.default_rng(0).permutation(len(valid))[:VALID_ROWS]
    return save_npz(out, compressed=True, packed=pack_images(task.x.numpy(), drop_bits),
                    drop_bits=np.array(drop_bits), targets=task.y["main"].numpy().astype(np.float16),
                    weights=task.sample_weights().astype(np.float32), keys=np.asarray(task.row_keys, dtype=str),
                    prior=task.prior.astype(np.float32), classes=np.array(task.classes),
                    valid_packed=pack_images(valid.images[keep], drop_bits),
                    valid_labels=valid.majority_labels()[keep],
                    config=np.array(json.dumps(config_to_dict(cfg))))


def load_cache(path: str | Path = DEFAULT_CACHE) -> TeacherCache:
    import json

    p = Path(path)
    if not p.is_file():
        raise EmotraceError(f"teacher cache {p} not found: build it with `python scripts/gpu_teacher.py cache` "
                            "where ../shared is, and carry it to the GPU machine")
    z = np.load(p, allow_pickle=False)
    bits = int(z["drop_bits"])
    return TeacherCache(unpack_images(z["packed"], bits), z["targets"].astype(np.float32), z["weights"], z["keys"],
                        z["prior"], tuple(str(c) for c in z["classes"]), unpack_images(z["valid_packed"], bits),
                        z["valid_labels"], json.loads(str(z["config"])))
