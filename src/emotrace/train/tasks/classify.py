"""Classify task: any registered architecture on any readable dataset (the seed architectures among them).

The model's `input_spec` decides whether it sees stills, clips, frame sequences or windows of embeddings from an
already-trained frame model (seed 4's two-stage training; end-to-end CNN-LSTMs see clips). Targets are classes,
valence/arousal, or both; the final evaluation scores the test split (k-fold, fixed) or the validation split.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from emotrace.config import config_to_dict
from emotrace.data.arrays import Arrays, batch_tensor, prepare_arrays, proxy_va_if_missing
from emotrace.data.balance import balanced_sample_weights, class_weights, va_downsample
from emotrace.data.readers import open_dataset
from emotrace.data.splits import split_dataset
from emotrace.errors import EmotraceError
from emotrace.eval.evaluate import evaluate_arrays, label_mapping
from emotrace.eval.evaluation import Evaluation
from emotrace.models.contract import ModelContract, contract_of, input_spec_of
from emotrace.models.outputs import frame_features, model_outputs, output_kind, predict
from emotrace.train.augment import random_affine
from emotrace.train.config import EngineConfig
from emotrace.train.objective import make_objective
from emotrace.train.tasks.base import PLAIN, EvalRequest, Task

if TYPE_CHECKING:
    from emotrace.models.checkpoint import LoadedModel

log = logging.getLogger("emotrace")


@dataclass
class ClassifyConfig(EngineConfig):
    """Dataset, split and target fields on top of the engine's."""

    task: str = "classify"
    optimizer: str = "adam"
    # data
    data: str = "../shared/data/ferplus"
    data_format: str = "auto"
    data_options: dict[str, Any] = field(default_factory=dict)
    crop_cache: str = "~/.cache/emotrace/crops"
    align: str = "auto"  # auto: detect + align unless the data are face crops already; always; never
    sampler: str = ""  # fixed | sliding | uniform; empty = the model's default
    sampler_kwargs: dict[str, Any] = field(default_factory=dict)
    frames_per_video: int = 8  # still models on video: frames taken per video
    features_from: str = ""  # features models: run folder, checkpoint or shipped name of a trained frame model
    # split
    split: str = "official"  # official | kfold | fixed
    train_split: str = "train"
    valid_split: str = "valid"
    test_split: str = ""
    kfold: int = 10
    fold: int = 0
    fixed_sizes: tuple[int, int] = (5000, 1000)
    by_subject: bool = True
    # targets and loss
    target: str = "auto"  # classes | va | both; auto follows the model's output
    loss: str = "auto"  # ce | soft_ce | ccc | mse | multitask
    label_smoothing: float = 0.0
    class_weights: bool = False
    balanced_sampler: bool = False
    va_balance: str = ""  # max | mean | average: seed 4's histogram down-sampling of the training set
    augment: bool = True


class ClassifyTask(Task):
    """Any architecture on any dataset: classes, valence/arousal or both."""

    name = "classify"
    config_class = ClassifyConfig
    cfg: ClassifyConfig

    def setup(self, device: torch.device) -> None:
        super().setup(device)
        cfg = self.cfg
        ds, parts = self._read_parts()
        if "valid" not in parts:
            raise EmotraceError("a validation split is needed (valid_split, kfold or fixed)")
        probe = super().build_model()
        self.spec = input_spec_of(probe)
        self.target = output_kind(probe) if cfg.target == "auto" else cfg.target
        n_out = _class_outputs(probe)
        if n_out is not None and n_out != len(ds.classes):
            raise EmotraceError(f"{cfg.arch} has {n_out} class outputs but {ds.name} has {len(ds.classes)} classes "
                                f"({', '.join(ds.classes)}): set arch_kwargs num_classes: {len(ds.classes)}")
        arrays = self._arrays(parts)
        train = arrays["train"]
        if cfg.va_balance:
            keep = va_downsample(train.va, cfg.va_balance, rng=np.random.default_rng(cfg.seed))
            log.info("seed-4 VA balancing (%s) keeps %d of %d training rows", cfg.va_balance, keep.sum(), len(keep))
            train = train.take(np.flatnonzero(keep))
        if self.target != "va":
            train = train.take(np.flatnonzero(train.y >= 0))
        if cfg.max_train:
            train = train.take(np.arange(min(cfg.max_train, len(train))))
        self.train = train
        store = self.storage_device()  # on CUDA with data_on_device: the training inputs live on the GPU
        self._x_store = torch.from_numpy(train.x).to(store) if store.type == "cuda" else None
        self.eval_arrays = {k: self._capped(v) for k, v in arrays.items() if k != "train"}
        n_classes = len(ds.classes)
        weights = class_weights(train.y, n_classes) if cfg.class_weights and self.target != "va" else None
        self.loss_name = cfg.loss if cfg.loss != "auto" else {
            "classes": "soft_ce" if train.soft is not None else "ce", "va": "ccc", "both": "multitask"}[self.target]
        self.objective = make_objective(self.loss_name, label_smoothing=cfg.label_smoothing,
                                        class_weights=None if weights is None else torch.tensor(weights,
                                                                                                dtype=torch.float32))
        self._sample_w = balanced_sample_weights(train.y, n_classes) if cfg.balanced_sampler else None
        self.default_best_metric = "ccc" if self.target == "va" else "accuracy"  # type: ignore[misc]

    def train_size(self) -> int:
        return len(self.train)

    def sample_weights(self) -> np.ndarray | None:
        return self._sample_w

    def batch(self, idx: np.ndarray, gen: torch.Generator) -> dict[str, torch.Tensor]:
        a, kind = self.train, self.spec["kind"]
        if self._x_store is not None:  # index on the GPU: no host copy of pixels per batch
            x = self._x_store[torch.from_numpy(idx).to(self._x_store.device)].float()
            x = x if kind == "features" else x.div_(255)
        else:
            x = batch_tensor(a, idx, kind)
        if self.cfg.augment and kind != "features":
            x = random_affine(x, gen)
        b = {"x": x.to(self.device), "y": torch.from_numpy(a.y[idx]).to(self.device),
             "va": torch.from_numpy(a.va[idx]).to(self.device)}
        if a.soft is not None:
            b["soft"] = torch.from_numpy(a.soft[idx]).to(self.device)
        return b

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        outputs = model_outputs(model, batch["x"])
        return self.objective({k: v.float() for k, v in outputs.items()}, batch)

    def _predict(self, model: torch.nn.Module, a: Arrays) -> dict[str, np.ndarray]:
        kind = self.spec["kind"]
        return predict(model, len(a), lambda idx: batch_tensor(a, idx, kind), self.device)

    def validate(self, model: torch.nn.Module) -> dict[str, float]:
        a = self.eval_arrays["valid"]
        pred = self._predict(model, a)
        ev = evaluate_arrays(pred, a, self.dataset.classes)
        out = {k: v for k, v in ev.items() if isinstance(v, float)}
        if "probs" in pred and (a.y >= 0).any():
            out["nll"] = validation_nll(pred["probs"], a.y)
        return out

    def contract(self, model: torch.nn.Module) -> ModelContract:
        outputs = {"classes": ("logits",), "va": ("va",), "both": ("logits", "va")}[output_kind(model)]
        extra = {"features_from": self.cfg.features_from} if self.spec["kind"] == "features" else {}
        return contract_of(model, self.dataset.classes, outputs, **extra)

    def evaluate(self, loaded: LoadedModel, data: str | None = None,
                 request: EvalRequest = PLAIN) -> Evaluation:
        """The run's own data (named again, whole and plain) is scored as the run's end scored it: same split,
        fold, clips and caps; other data by label names."""
        same = (data is not None and Path(data).expanduser().resolve() == Path(self.cfg.data).expanduser().resolve()
                and request.split == "all" and request.plain and not request.photos and not loaded.shipped)
        return super().evaluate(loaded, None if same else data, request)

    def evaluate_own(self, loaded: LoadedModel) -> Evaluation:
        """The test split (k-fold, fixed) or the validation split, as in training."""
        if not hasattr(self, "eval_arrays"):
            ds, parts = self._read_parts()
            role = "test" if "test" in parts else "valid"
            self.spec = input_spec_of(loaded.model)
            self.target = output_kind(loaded.model) if self.cfg.target == "auto" else self.cfg.target
            self.eval_arrays = {role: self._capped(self._arrays({role: parts[role]})[role])}
        role = "test" if "test" in self.eval_arrays else "valid"
        final, ds = self.eval_arrays[role], self.dataset
        ev = evaluate_arrays(self._predict(loaded.model, final), final, ds.classes,
                             label_mapping(ds.classes, loaded.classes))
        ev.update({"split": role, "dataset": ds.name, "data": self.cfg.data, "rows": len(final)})
        return Evaluation(ev, title=f"{self.cfg.name}: {self.cfg.arch} on {ds.name} ({role})", classes=ds.classes,
                          notes=ds.notes + (["valence/arousal targets are PROXIES"] if final.va_proxy else []))

    def _read_parts(self) -> tuple[Any, dict[str, Any]]:
        """The dataset and its parts (train, valid, test) as the config splits it."""
        cfg = self.cfg
        self.dataset = open_dataset(cfg.data, cfg.data_format, **cfg.data_options)
        return self.dataset, split_dataset(
            self.dataset, cfg.split, cfg.seed, train_split=cfg.train_split, valid_split=cfg.valid_split,
            test_split=cfg.test_split, kfold=cfg.kfold, fold=cfg.fold, fixed_sizes=cfg.fixed_sizes,
            by_subject=cfg.by_subject)

    def _arrays(self, parts: dict[str, Any]) -> dict[str, Arrays]:
        """Model inputs of dataset parts as the model's input spec asks (two-stage: through its frame model), with
        valence/arousal proxies where the targets need them and the data have none."""
        spec, embed = frame_features(self.spec, self.cfg.features_from)
        arrays = prepare_arrays(config_to_dict(self.cfg), spec, parts, embed)
        if self.target in ("va", "both"):
            arrays = {k: proxy_va_if_missing(v, self.dataset.classes) for k, v in arrays.items()}
        return arrays

    def _capped(self, a: Arrays) -> Arrays:
        return a.take(np.arange(min(self.cfg.max_eval, len(a)))) if self.cfg.max_eval else a


def validation_nll(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of the labelled rows: the validation loss Keras' early stopping watches by default."""
    ok = y >= 0
    return float(-np.log(np.clip(probs[ok, y[ok]], 1e-12, None)).mean())


def _class_outputs(model: torch.nn.Module) -> int | None:
    """Width of the classification head, found as the last Linear layer's outputs (None for VA-only models)."""
    if output_kind(model) == "va":
        return None
    head = getattr(model, "head", None)
    linears = [m for m in (head.modules() if isinstance(head, torch.nn.Module) else model.modules())
               if isinstance(m, torch.nn.Linear)]
    return linears[-1].out_features if linears else None
