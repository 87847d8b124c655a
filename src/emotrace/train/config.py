"""Training configs: plain YAML over dataclasses. `EngineConfig` holds what every run shares (optimiser, schedule,
precision, EMA, checkpoints, device); each task extends it with its own fields (`train/tasks/`), and a config file
names its task (`task: frame`); `train/resolve.py` reads a file into the task's dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from emotrace.config import config_to_dict


@dataclass
class EngineConfig:
    """Fields every task shares. Sections: identity, model, optimisation, schedule, precision, run."""

    task: str = "classify"
    name: str = "run"
    arch: str = "emotrace-cnn-s"
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    # optimisation
    optimizer: str = "adamw"  # adam | adamw | sgd
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.9
    weight_decay: float = 0.0
    grad_clip: float = 0.0  # max gradient norm; 0 = off
    ema_decay: float = 0.0  # exponential moving average of weights (e.g. 0.999); 0 = off. Evaluated and shipped.
    # schedule (stepped once per optimiser step)
    scheduler: str = "none"  # none | cosine (warm-up + cosine) | onecycle | step | plateau
    warmup_epochs: float = 0.0  # linear warm-up before cosine
    pct_start: float = 0.15  # onecycle's rising fraction
    min_lr_ratio: float = 0.0  # cosine floor as a fraction of lr
    epochs: int = 10
    batch_size: int = 32
    early_stopping: int = 0  # patience in epochs without a better best_metric; 0 = off
    best_metric: str = "auto"  # a validation metric (nll, rmse minimised), or loss (training); auto = the task's
    ship_checkpoint: str = "best"  # best | final: which checkpoint is the run's model
    # precision and device
    device: str = "auto"  # auto | cpu | cuda
    amp: bool = True  # bf16 autocast where the device supports it (CUDA); CPU runs in float32
    channels_last: bool = False
    data_on_device: bool = True  # keep training arrays on the GPU (augmentation runs there too)
    # run
    seed: int = 0
    threads: int = 2
    checkpoint_every: int = 0  # also write last.pt every N steps inside an epoch; 0 = at epoch ends only
    init_from: str = ""  # start from these weights: a shipped name, run folder or checkpoint (fine-tuning)
    max_train: int = 0  # >0 caps the training rows (smoke runs)
    max_eval: int = 0
    max_steps: int = 0  # >0 stops after this many optimiser steps in total (smoke runs, tests)
    out_dir: str = "runs/run"


def dump_config(cfg: EngineConfig) -> str:
    """The resolved config as YAML (what `--dry-run` prints and every run folder keeps)."""
    return yaml.safe_dump(config_to_dict(cfg), sort_keys=False)
