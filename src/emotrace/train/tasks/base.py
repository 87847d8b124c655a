"""What a task supplies to the engine: the model, the training rows, the loss, validation metrics and its one
evaluation. The engine owns everything else (loop, optimiser, schedule, precision, EMA, checkpoints, resume, DDP).

`evaluate` is the task's only scoring of a finished model: the engine calls it at a run's end, `emotrace evaluate`
and `emotrace ship` call it on a run folder or shipped weights (the task named by run.json or the manifest), and
`eval.evaluation.write_evaluation` writes whatever it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from emotrace.errors import EmotraceError
from emotrace.eval.evaluation import Evaluation
from emotrace.models.contract import ModelContract
from emotrace.train.config import EngineConfig

if TYPE_CHECKING:
    from emotrace.models.checkpoint import LoadedModel


@dataclass(frozen=True)
class EvalRequest:
    """What `emotrace evaluate` asks beyond a model and a dataset."""

    split: str = "all"  # the dataset's split (train, valid, test; photos: all or holdout)
    photos: bool = False  # a frame model on a photo set through the pipeline a user runs
    restrict: bool = False  # only let the model choose classes the data has
    data_format: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)  # reader options (label_mode, include_contempt, ...)

    @property
    def plain(self) -> bool:
        """No reader option, restriction or format asked for: the dataset as its reader gives it."""
        return not any(v is not None for v in self.options.values()) and not self.restrict


PLAIN = EvalRequest()  # the request of an evaluation nobody narrowed (the engine's, ship's)


class Task:
    """Base class; subclasses set `name` and `config_class` and implement the methods below."""

    name: ClassVar[str] = ""
    config_class: ClassVar[type[EngineConfig]] = EngineConfig
    default_best_metric: ClassVar[str] = "accuracy"
    frame_model: ClassVar[bool] = False  # its models are frame models the pipeline can run (and ship as one)

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

    def training_prior(self) -> tuple[np.ndarray, str] | None:
        """The class prior training drew (and how it was measured), kept in the run folder for shipping."""
        return None

    # -- evaluation
    def validate(self, model: torch.nn.Module) -> dict[str, float]:
        """Validation metrics after an epoch (floats; the engine logs them and picks the best epoch)."""
        raise NotImplementedError

    def contract(self, model: torch.nn.Module) -> ModelContract:
        raise NotImplementedError

    def evaluate(self, loaded: LoadedModel, data: str | None = None,
                 request: EvalRequest = PLAIN) -> Evaluation:
        """Score a finished model: `data` None scores the run's own held-out data (what its training reported);
        a dataset path scores any set the task can read."""
        if request.photos:
            raise EmotraceError(f"--photos scores a frame model through the pipeline; {loaded.ref} is a "
                                f"{loaded.task} model")
        if data is None:
            return self.evaluate_own(loaded)
        from emotrace.eval.evaluate import evaluate_dataset

        split = None if request.split == "all" else request.split
        return evaluate_dataset(loaded, data, split=split, data_format=request.data_format,
                                options=request.options, restrict=request.restrict)

    def evaluate_own(self, loaded: LoadedModel) -> Evaluation:
        """The run's own evaluation data (read in `setup`, or now when the task was made from a run's config)."""
        raise NotImplementedError
