"""Frame task: the frame CNN on FER+ stills with the vote distribution as a soft target (or the plurality label as
a hard one), plus optional heads on the same embedding: FER2013's original labels (`fer2013_head`) and
valence/arousal proxies of the votes, trained with a CCC loss (`va_head`). Rows without a target for a head are
masked out of that head's loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from emotrace.data.proxies import va_from_distribution
from emotrace.data.readers import detect_format
from emotrace.data.readers.ferplus import FerPlusSplit, read_split
from emotrace.errors import EmotraceError
from emotrace.eval.evaluation import Evaluation
from emotrace.eval.ferplus import evaluate_ferplus, ferplus_evaluation
from emotrace.labels import EMOTIONS
from emotrace.models.contract import ModelContract, contract_of
from emotrace.train.augment import random_affine
from emotrace.train.config import EngineConfig
from emotrace.train.losses import ccc
from emotrace.train.soft_labels import ferplus_key, read_soft_labels
from emotrace.train.tasks.base import PLAIN, EvalRequest, Task
from emotrace.train.tasks.teachers import Teachers, log_of

if TYPE_CHECKING:
    from emotrace.models.checkpoint import LoadedModel


@dataclass
class FrameConfig(EngineConfig):
    """Frame-model fields on top of the engine's."""

    task: str = "frame"
    data: str = "../shared/data/ferplus"
    label_mode: str = "soft"  # soft (vote distribution) or plurality (one-hot)
    include_contempt: bool = False  # FER+ head over eight classes (contempt last) instead of seven
    fer2013_head: bool = False
    va_head: bool = False
    aux_weight: float = 0.5  # weight of each auxiliary head's loss
    label_smoothing: float = 0.0
    augment: bool = True
    optimizer: str = "adamw"
    scheduler: str = "onecycle"
    lr: float = 3e-3
    weight_decay: float = 5e-4
    batch_size: int = 128
    best_metric: str = "ferplus7_accuracy"
    ship_checkpoint: str = "final"  # the last epoch ships: picking an epoch on Valid would flatter Valid
    # distillation (train/tasks/teachers.py): loss = (1 - w) * own loss + w * T^2 * KL(teachers_T || student_T)
    teachers: list[str] = field(default_factory=list)  # run folders, checkpoints or shipped names
    teacher_flip: bool = False  # teachers also see the mirrored face (flip TTA)
    teacher_labels: str = ""  # a soft-labels file (train/soft_labels.py) instead of teachers run on each batch
    distill_temperature: float = 4.0
    distill_weight: float = 0.7


def ferplus_targets(split: FerPlusSplit, label_mode: str, include_contempt: bool) -> dict[str, np.ndarray]:
    """Per-image targets of every head, NaN / -1 where an image has none."""
    votes = split.class_votes(include_contempt)
    total = votes.sum(1, keepdims=True)
    if label_mode == "soft":
        main = np.divide(votes, total, out=np.full_like(votes, np.nan), where=total > 0)
    elif label_mode == "plurality":
        lab = split.majority_labels()
        main = np.full(votes.shape, np.nan, np.float32)
        main[lab >= 0] = np.eye(votes.shape[1], dtype=np.float32)[lab[lab >= 0]]
    else:
        raise EmotraceError(f"label_mode must be soft or plurality, not {label_mode!r}")
    seven = split.soft_labels()
    va = np.where(seven.sum(1, keepdims=True) > 0, va_from_distribution(seven), np.nan).astype(np.float32)
    return {"main": main.astype(np.float32), "fer2013": split.fer2013_labels.astype(np.int64), "va": va}


class FrameTask(Task):
    """FER+ frame classification with soft/hard targets and optional FER2013 and valence/arousal heads."""

    name = "frame"
    config_class = FrameConfig
    default_best_metric = "ferplus7_accuracy"
    frame_model = True
    cfg: FrameConfig

    def setup(self, device: torch.device) -> None:
        super().setup(device)
        self.read_data()
        self.load_teachers()

    @property
    def classes(self) -> tuple[str, ...]:
        """The main head's classes: the seven emotions, and contempt last with `include_contempt`."""
        return tuple(EMOTIONS) + (("contempt",) if self.cfg.include_contempt else ())

    def valid_split(self) -> FerPlusSplit:
        """FER+ Valid, capped at `max_eval` rows: what validation and the run's own evaluation score."""
        if not hasattr(self, "valid"):
            self.valid = read_split(self.cfg.data, "valid")
            if self.cfg.max_eval:
                self.valid = self.valid.subset(np.arange(min(self.cfg.max_eval, len(self.valid))))
        return self.valid

    def read_data(self) -> None:
        """FER+ Train rows in `self.x` / `self.y`, FER+ Valid in `self.valid`."""
        cfg = self.cfg
        train = read_split(cfg.data, "train")
        self.valid_split()
        targets = ferplus_targets(train, cfg.label_mode, cfg.include_contempt)
        usable = ~np.isnan(targets["main"][:, 0]) | (cfg.fer2013_head & (targets["fer2013"] >= 0))
        x = train.images[usable]
        y = {k: v[usable] for k, v in targets.items()}
        self.row_keys = [ferplus_key(n) for n, ok in zip(train.names, usable, strict=True) if ok]
        if cfg.max_train:
            x, y = x[:cfg.max_train], {k: v[:cfg.max_train] for k, v in y.items()}
            self.row_keys = self.row_keys[:cfg.max_train]
        keep_on = self.storage_device()
        self.x = torch.from_numpy(x).to(keep_on)
        self.y = {k: torch.from_numpy(v).to(keep_on) for k, v in y.items()}
        fer_main = y["main"]
        self.ferplus_prior = (np.nanmean(fer_main, 0) if len(fer_main) and not np.isnan(fer_main).all()
                              else np.full(len(self.classes), 1.0 / len(self.classes)))
        self.teachers: Teachers | None = None

    def load_teachers(self) -> None:
        """The configured teachers, if any, each put in the balanced space (train/tasks/teachers.py); or a
        soft-labels file's balanced logits as one more target per row (`teacher`, NaN where the file has none)."""
        if self.cfg.teachers and self.cfg.teacher_labels:
            raise EmotraceError("name teachers or teacher_labels, not both")
        if self.cfg.teacher_labels:
            logits = read_soft_labels(self.cfg.teacher_labels).lookup(self.row_keys, self.classes)
            self.y["teacher"] = torch.from_numpy(logits).to(self.x.device)
        if self.cfg.teachers:
            self.teachers = Teachers.load(self.cfg.teachers, self.device, self.ferplus_prior,
                                          self.natural_mix_prior(), _config(self.cfg), flip=self.cfg.teacher_flip)

    def natural_mix_prior(self) -> np.ndarray | None:
        """The class prior of a mix of datasets drawn without class balancing (None: FER+ alone)."""
        return None

    def distill_shift(self) -> np.ndarray:
        """The log prior the student's plain logits carry (FER+'s natural mix): added to the teachers' balanced
        logits, so both sides of the distillation term answer against the same prior."""
        return log_of(self.ferplus_prior)

    def distilled(self, logits: torch.Tensor, batch: dict[str, torch.Tensor], loss: torch.Tensor) -> torch.Tensor:
        """`loss` mixed with the distillation term on the main head's plain logits (unchanged without teachers):
        the teachers run on the batch, or the soft-labels file's logits of its rows (rows without any skipped)."""
        if self.teachers is None and "teacher" not in batch:
            return loss
        t, w = self.cfg.distill_temperature, self.cfg.distill_weight
        shift = torch.from_numpy(self.distill_shift()).float().to(logits.device)
        if "teacher" in batch:
            rows = ~torch.isnan(batch["teacher"][:, 0])
            if not rows.any():
                return loss
            logits, target = logits[rows], F.softmax((batch["teacher"][rows] + shift) / t, 1)
        else:
            assert self.teachers is not None
            target = self.teachers.log_probs(batch["x"], t, shift=shift).exp()
        kd = F.kl_div(F.log_softmax(logits.float() / t, 1), target, reduction="batchmean") * t * t
        return (1 - w) * loss + w * kd

    def train_size(self) -> int:
        return len(self.x)

    def batch(self, idx: np.ndarray, gen: torch.Generator) -> dict[str, torch.Tensor]:
        i = torch.from_numpy(idx).to(self.x.device)
        x = self.x[i].float().div_(255)[:, None]
        if self.cfg.augment:
            x = random_affine(x, gen)
        if self.cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return {"x": x.to(self.device), **{k: v[i].to(self.device) for k, v in self.y.items()}}

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        out = model(batch["x"])
        return self.distilled(out["logits"], batch, self.head_losses(out, batch))

    def head_losses(self, out: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor]) -> torch.Tensor:
        cfg = self.cfg
        logits = out["logits"].float()
        main_ok = ~torch.isnan(tgt["main"][:, 0])
        if main_ok.any():
            target = tgt["main"][main_ok]
            if cfg.label_smoothing:
                target = target * (1 - cfg.label_smoothing) + cfg.label_smoothing / target.shape[1]
            loss = -(target * F.log_softmax(logits[main_ok], 1)).sum(1).mean()
        else:
            loss = logits.sum() * 0
        if "logits_fer2013" in out:
            ok = tgt["fer2013"] >= 0
            if ok.any():
                loss = loss + cfg.aux_weight * F.cross_entropy(out["logits_fer2013"].float()[ok], tgt["fer2013"][ok])
        if "valence_arousal" in out:
            ok = ~torch.isnan(tgt["va"][:, 0])
            if ok.sum() > 1:
                loss = loss + cfg.aux_weight * (1 - ccc(out["valence_arousal"].float()[ok], tgt["va"][ok])).mean()
        return loss

    def validate(self, model: torch.nn.Module) -> dict[str, float]:
        ev = evaluate_ferplus(model, self.valid)
        row = {"ferplus7_accuracy": ev["ferplus7"]["accuracy"], "ferplus7_uar": ev["ferplus7"]["uar"],
               "ferplus_majority7_accuracy": ev["ferplus_majority7"]["accuracy"]}
        if "ferplus_majority8" in ev:
            row["ferplus_majority8_accuracy"] = ev["ferplus_majority8"]["accuracy"]
        if "fer2013" in ev:
            row["fer2013_accuracy"] = ev["fer2013"]["accuracy"]
        if "va" in ev:
            row["va_mean_ccc"] = ev["va"]["mean_ccc"]
        return row

    def contract(self, model: torch.nn.Module) -> ModelContract:
        with torch.no_grad():
            was = model.training
            model.eval()
            p = next(model.parameters())
            names = list(model(torch.zeros(1, 1, model.input_size, model.input_size, device=p.device)))
            model.train(was)
        return contract_of(model, self.classes, names, alignment="FER template (emotrace.faces.align)")

    def training_prior(self) -> tuple[np.ndarray, str] | None:
        return np.asarray(self.ferplus_prior, np.float64), "mean FER+ training target"

    def evaluate(self, loaded: LoadedModel, data: str | None = None,
                 request: EvalRequest = PLAIN) -> Evaluation:
        """A photo set through the pipeline (`request.photos`); FER+ as the model card reports it; any other
        dataset by label names."""
        if data is not None and request.photos:
            return self.evaluate_photos(loaded, data, request.split)
        fmt = request.data_format if request.data_format != "auto" or data is None else detect_format(data)
        if data is not None and request.plain and fmt == "ferplus" and "embedding" in loaded.contract.outputs:
            split = "valid" if request.split == "all" else request.split
            return ferplus_evaluation(loaded.model, read_split(data, split), loaded.ref, data, split)
        return super().evaluate(loaded, data, request)

    def evaluate_own(self, loaded: LoadedModel) -> Evaluation:
        return ferplus_evaluation(loaded.model, self.valid_split(), self.cfg.name, self.cfg.data, "valid")

    def evaluate_photos(self, loaded: LoadedModel, data: str, rows: str) -> Evaluation:
        """Every photo of a set (CK+, TFEID, SFEW, class folders) through the pipeline."""
        from emotrace.eval.photos import photo_evaluation

        if rows != "all":
            raise EmotraceError(f"--photos scores --split all here ({loaded.ref} is a {loaded.task} model, which "
                                "holds no groups out); --split holdout is for mix runs")
        return photo_evaluation(loaded.ref, data, Path(data).name.lower())


def _config(cfg: EngineConfig) -> dict[str, Any]:
    from emotrace.config import config_to_dict

    return config_to_dict(cfg)
