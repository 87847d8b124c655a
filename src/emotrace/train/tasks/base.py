"""What a task supplies to the engine: the model, the training rows, the loss, validation metrics and the final
evaluation. The engine owns everything else (loop, optimiser, schedule, precision, EMA, checkpoints, resume, DDP).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from emotrace.models.contract import ModelContract
from emotrace.train.config import EngineConfig


class Task:
    """Base class; subclasses set `name` and `config_class` and implement the methods below."""

    name: ClassVar[str] = ""
    config_class: ClassVar[type[EngineConfig]] = EngineConfig
    default_best_metric: ClassVar[str] = "accuracy"

    def __init__(self, cfg: EngineConfig) -> None:
        self.cfg = cfg
        self.device = torch.device("cpu")

    # -- set-up
    def setup(self, device: torch.device) -> None:
        """Read the data (once, before the model is built)."""
        self.device = device

    def storage_device(self) -> torch.device:
        """Where training arrays live: on the GPU when training there and `data_on_device` (no copy per batch;
        augmentation runs there too), else in CPU memory."""
        on_gpu = self.cfg.data_on_device and self.device.type == "cuda"
        return self.device if on_gpu else torch.device("cpu")

    def build_model(self) -> torch.nn.Module:
        from emotrace.models import create_model

        return create_model(self.cfg.arch, **self.cfg.arch_kwargs)

    def arch_kwargs(self) -> dict[str, Any]:
        """The keyword arguments the model was built with (tasks may add derived ones, e.g. input width)."""
        return dict(self.cfg.arch_kwargs)

    def train_size(self) -> int:
        raise NotImplementedError

    def rows_per_epoch(self) -> int:
        """Rows drawn per epoch (a weighted draw may take fewer than there are, to validate more often)."""
        return self.train_size()

    def sample_weights(self) -> np.ndarray | None:
        """Per-row sampling weights (balanced sampling), or None for a plain shuffle."""
        return None

    # -- one step
    def batch(self, idx: np.ndarray, gen: torch.Generator) -> Any:
        """Training inputs and targets of rows `idx`, on `self.device`, augmented with `gen`."""
        raise NotImplementedError

    def loss(self, model: torch.nn.Module, batch: Any) -> torch.Tensor:
        """Forward pass and loss of one batch."""
        raise NotImplementedError

    # -- evaluation
    def validate(self, model: torch.nn.Module) -> dict[str, float]:
        """Validation metrics after an epoch (floats; the engine logs them and picks the best epoch)."""
        raise NotImplementedError

    def contract(self, model: torch.nn.Module) -> ModelContract:
        raise NotImplementedError

    def final_evaluation(self, model: torch.nn.Module, out: Path, command: str,
                         run_info: dict[str, Any]) -> dict[str, Any]:
        """Score the run's model, write metrics.json and the report into `out`, return the metrics."""
        raise NotImplementedError
