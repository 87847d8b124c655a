"""Mix task: the frame CNN on every labelled set here at once (frame model v2).

FER+ keeps its vote distributions (soft targets), FER2013 head and valence/arousal proxies; CK+, TFEID and SFEW
(or any class-folder set under `extra`) come in as the crops the pipeline makes of their photos
(`data/photo_crops.py`), each split by group (subject, performer, movie) into training groups and held-out groups
that validation scores. One sampler draws datasets in fixed shares and, with `balance: sampler`, classes equally
within each; `balance: logit_adjust` instead trains on logits shifted by tau * log(prior) (Menon et al. 2021) so the
plain logits at inference are balanced. Either fights the bias FER's class mix gives a model (neutral and happy are
55% of FER+), which otherwise calls posed anger, disgust and fear "neutral".

`exclude` leaves a dataset out of training entirely (leave-one-dataset-out); its held-out score is then its score
on every photo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from emotrace.data.photo_crops import PhotoCrops, group_holdout, load_photo_crops
from emotrace.data.proxies import va_from_distribution
from emotrace.errors import EmotraceError
from emotrace.eval.calibration import expected_calibration_error
from emotrace.eval.evaluation import Evaluation
from emotrace.eval.metrics import classification_metrics
from emotrace.labels import EMOTIONS, canonical
from emotrace.models.outputs import predict_heads
from emotrace.train.augment import random_affine, strong_augment
from emotrace.train.soft_labels import photo_key
from emotrace.train.tasks.frame import FrameConfig, FrameTask
from emotrace.train.tasks.teachers import log_of

if TYPE_CHECKING:
    from emotrace.models.checkpoint import LoadedModel


@dataclass
class MixConfig(FrameConfig):
    """Frame fields plus the mix: extra datasets, their shares, the balancing and the hold-out."""

    task: str = "mix"
    extra: dict[str, str] = field(default_factory=dict)  # dataset name -> folder (CK+, class folders)
    exclude: list[str] = field(default_factory=list)  # names left out of training (leave-one-dataset-out)
    shares: dict[str, float] = field(default_factory=dict)  # sampling share per dataset; unnamed ones share the rest
    balance: str = "none"  # none | sampler (classes equal within a dataset) | logit_adjust
    la_tau: float = 1.0
    holdout_fraction: float = 0.25  # groups of each extra dataset held out for validation
    holdout_seed: int = 0
    epoch_rows: int = 0  # rows drawn per epoch (0 = all training rows)
    augment_strength: str = "strong"  # seed | strong
    crop_cache: str = ".cache/photo-crops"  # where the photo sets' crops are kept (data/photo_crops.py)
    best_metric: str = "mix_mean_uar"


class MixTask(FrameTask):
    """FER+ and photo datasets through one balanced sampler; held-out groups of each scored every epoch."""

    name = "mix"
    config_class = MixConfig
    default_best_metric = "mix_mean_uar"
    cfg: MixConfig

    def read_data(self) -> None:
        cfg = self.cfg
        if cfg.balance not in ("none", "sampler", "logit_adjust"):
            raise EmotraceError(f"balance must be none, sampler or logit_adjust, not {cfg.balance!r}")
        unknown = sorted(set(cfg.exclude) - set(cfg.extra) - {"ferplus"})
        if unknown:
            raise EmotraceError(f"exclude names datasets not in extra: {', '.join(unknown)}")
        super().read_data()  # FER+ train rows in self.x / self.y, FER+ Valid in self.valid
        keep_on = self.storage_device()
        xs, ys, sources = [self.x.cpu().numpy()], [{k: v.cpu().numpy() for k, v in self.y.items()}], []
        sources.append(np.zeros(len(self.x), np.int64))
        keys = [self.row_keys]
        self.dataset_names = ["ferplus"]
        self.holdouts: dict[str, PhotoCrops] = {}
        if "ferplus" in cfg.exclude:
            xs, ys, sources, keys, self.dataset_names = [], [], [], [], []
        for name, root in cfg.extra.items():
            pc, held = self._photo_set(name, root)
            self.holdouts[name] = pc.subset(np.flatnonzero(held))
            if name in cfg.exclude:
                continue
            tr = pc.subset(np.flatnonzero(~held))
            xs.append(tr.images)
            ys.append(self._targets(tr))
            keys.append([photo_key(name, p, root) for p in tr.paths.tolist()])
            sources.append(np.full(len(tr), len(self.dataset_names), np.int64))
            self.dataset_names.append(name)
        if not xs:
            raise EmotraceError("every dataset is excluded: nothing to train on")
        x = np.concatenate(xs)
        y = {k: np.concatenate([d[k] for d in ys]) for k in ys[0]}
        self.source = np.concatenate(sources)
        self.row_keys = [k for part in keys for k in part]
        if cfg.max_train:  # smoke runs: the first rows of every dataset, max_train in all
            per = max(1, cfg.max_train // len(self.dataset_names))
            rows = np.concatenate([np.flatnonzero(self.source == i)[:per] for i in range(len(self.dataset_names))])
            x, y, self.source = x[rows], {k: v[rows] for k, v in y.items()}, self.source[rows]
            self.row_keys = [self.row_keys[i] for i in rows]
        self.x = torch.from_numpy(x).to(keep_on)
        self.y = {k: torch.from_numpy(v).to(keep_on) for k, v in y.items()}
        self._weights = self._sampling_weights(y["main"], cfg.balance)
        self.prior = self._prior(self._weights, y["main"])
        self._natural_prior = self._prior(self._sampling_weights(y["main"], "none"), y["main"])
        self.log_prior = torch.log(torch.from_numpy(self.prior).float().clamp_min(1e-4)).to(self.device)

    # -- data
    def _photo_set(self, name: str, root: str) -> tuple[PhotoCrops, np.ndarray]:
        """A photo set's crops with labels mapped to this model's classes, and which rows are held out: the
        hold-out groups, or every row of a set left out of training (`exclude`)."""
        cfg = self.cfg
        pc = self._map_labels(load_photo_crops(root, name, cache_dir=Path(cfg.crop_cache)))
        if name in cfg.exclude:
            return pc, np.ones(len(pc), bool)
        return pc, group_holdout(pc.groups, cfg.holdout_fraction, cfg.holdout_seed)

    def _map_labels(self, pc: PhotoCrops) -> PhotoCrops:
        """The dataset's labels as indices into this model's classes (rows of other classes dropped)."""
        names = [c if c == "contempt" else canonical(c) for c in pc.classes]
        to_model = np.array([self.classes.index(n) if n in self.classes else -1 for n in names])
        mapped = to_model[pc.labels]
        keep = np.flatnonzero(mapped >= 0)
        out = pc.subset(keep)
        out.labels = mapped[keep]
        out.classes = self.classes
        return out

    def _targets(self, pc: PhotoCrops) -> dict[str, np.ndarray]:
        main = np.eye(len(self.classes), dtype=np.float32)[pc.labels]
        seven = main[:, :len(EMOTIONS)]
        va = np.full((len(pc), 2), np.nan, np.float32)
        ok = seven.sum(1) > 0
        va[ok] = va_from_distribution(seven[ok])
        return {"main": main, "fer2013": np.full(len(pc), -1, np.int64), "va": va}

    @staticmethod
    def _prior(weights: np.ndarray, main: np.ndarray) -> np.ndarray:
        prior = (weights[:, None] * np.nan_to_num(main)).sum(0)
        return prior / prior.sum()

    def natural_mix_prior(self) -> np.ndarray:
        return self._natural_prior

    def distill_shift(self) -> np.ndarray:
        """Balanced students (logit adjustment, class sampling) learn the teachers' balanced answer as it is; a
        student on the natural mix learns it with the mix prior added back."""
        if self.cfg.balance in ("logit_adjust", "sampler"):
            return np.zeros(len(self.classes))
        return log_of(self._natural_prior)

    def _sampling_weights(self, main: np.ndarray, balance: str) -> np.ndarray:
        cfg = self.cfg
        named = {n: s for n, s in cfg.shares.items() if n in self.dataset_names}
        rest = [n for n in self.dataset_names if n not in named]
        left = max(0.0, 1.0 - sum(named.values()))
        sizes = {i: int((self.source == i).sum()) for i in range(len(self.dataset_names))}
        rest_total = sum(sizes[self.dataset_names.index(n)] for n in rest) or 1
        share = {n: named.get(n, left * sizes[self.dataset_names.index(n)] / rest_total) for n in self.dataset_names}
        w = np.zeros(len(self.source))
        hard = np.nan_to_num(main, nan=0).argmax(1)
        for i, n in enumerate(self.dataset_names):
            rows = self.source == i
            if balance == "sampler":
                counts = np.bincount(hard[rows], minlength=main.shape[1]).astype(float)
                per_class = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0)
                cw = per_class[hard[rows]]
                w[rows] = share[n] * cw / cw.sum()
            else:
                w[rows] = share[n] / max(1, rows.sum())
        return w / w.sum()

    def sample_weights(self) -> np.ndarray:
        return self._weights

    def rows_per_epoch(self) -> int:
        return self.cfg.epoch_rows or len(self.x)

    def batch(self, idx: np.ndarray, gen: torch.Generator) -> dict[str, torch.Tensor]:
        i = torch.from_numpy(idx).to(self.x.device)
        x = self.x[i].float().div_(255)[:, None]
        if self.cfg.augment:
            x = strong_augment(x, gen) if self.cfg.augment_strength == "strong" else random_affine(x, gen)
        if self.cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return {"x": x.to(self.device), **{k: v[i].to(self.device) for k, v in self.y.items()}}

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        out = dict(model(batch["x"]))
        plain = out["logits"]
        if self.cfg.balance == "logit_adjust":
            out["logits"] = plain + self.cfg.la_tau * self.log_prior.to(plain.dtype)
        return self.distilled(plain, batch, self.head_losses(out, batch))

    # -- evaluation
    def scored_sets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Images and labels of FER+ Valid (plurality label) and of each held-out photo set's seven-emotion rows:
        what the benchmarks score a model or an ensemble on."""
        k = len(EMOTIONS)
        maj = self.valid.majority_labels()
        ok = (maj >= 0) & (maj < k)
        sets = {"ferplus": (self.valid.images[ok], maj[ok])}
        for name, pc in self.holdouts.items():
            seven = pc.labels < k
            sets[name] = (pc.images[seven], pc.labels[seven])
        return sets

    def holdout_metrics(self, model: torch.nn.Module) -> dict[str, dict[str, Any]]:
        """Per held-out set: accuracy, UAR, per-class recall, confusion and the predicted-label distribution over
        the seven emotions (contempt rows and predictions folded away as the pipeline does)."""
        res = {}
        dev = next(model.parameters()).device
        k = len(EMOTIONS)
        for name, pc in self.holdouts.items():
            seven = pc.labels < k
            if not seven.any():
                continue
            probs = predict_heads(model, pc.images[seven], device=dev)["probs"][:, :k]
            pred = probs.argmax(1)
            m = classification_metrics(pc.labels[seven], pred, k)
            m["predicted_share"] = np.bincount(pred, minlength=k).astype(float).tolist()
            m["predicted_share"] = [v / len(pred) for v in m["predicted_share"]]
            m["true_share"] = (np.bincount(pc.labels[seven], minlength=k) / len(pred)).tolist()
            m["crop_fraction"] = float(pc.crop[seven].mean())
            res[name] = m
        return res

    def validate(self, model: torch.nn.Module) -> dict[str, float]:
        row = super().validate(model)
        neutral = EMOTIONS.index("neutral")
        uars = [row["ferplus7_uar"]]
        for name, m in self.holdout_metrics(model).items():
            row[f"{name}_accuracy"] = m["accuracy"]
            row[f"{name}_uar"] = m["uar"]
            row[f"{name}_neutral_share_gap"] = m["predicted_share"][neutral] - m["true_share"][neutral]
            uars.append(m["uar"])
        probs = predict_heads(model, self.valid.images, device=next(model.parameters()).device)["probs"]
        maj = self.valid.majority_labels()
        ok = maj >= 0
        p7 = probs[ok, :len(EMOTIONS)]
        row["ferplus7_ece"] = expected_calibration_error(p7 / p7.sum(1, keepdims=True), maj[ok])
        row["mix_mean_uar"] = float(np.mean(uars))
        return row

    def training_prior(self) -> tuple[np.ndarray, str] | None:
        return self.prior, f"class prior of the training draw (balance: {self.cfg.balance})"

    def evaluate_own(self, loaded: LoadedModel) -> Evaluation:
        """FER+ Valid as the frame task scores it, and each held-out group set (contempt folded away)."""
        if not hasattr(self, "holdouts"):  # made from a run's config: only the held-out rows are read
            self.holdouts = {}
            for name, root in self.cfg.extra.items():
                pc, held = self._photo_set(name, root)
                self.holdouts[name] = pc.subset(np.flatnonzero(held))
        ev = super().evaluate_own(loaded)
        ev.metrics["holdout"] = self.holdout_metrics(loaded.model)
        ev.headline.update({f"{n}_holdout_{k}": m[k] for n, m in ev.metrics["holdout"].items()
                            for k in ("accuracy", "uar")})
        return ev

    def evaluate_photos(self, loaded: LoadedModel, data: str, rows: str) -> Evaluation:
        """A photo set through the pipeline: every photo, or (`holdout`) the groups this run held out of training,
        which for a set the run excluded is every photo."""
        from emotrace.eval.photos import photo_evaluation

        if rows not in ("all", "holdout"):
            raise EmotraceError("--photos scores --split all or holdout")
        name = self._set_name(data)
        if name in self.cfg.exclude:
            rows = "all"
        return photo_evaluation(loaded.ref, data, name, rows, self.cfg.holdout_fraction, self.cfg.holdout_seed)

    def _set_name(self, data: str) -> str:
        """The run's name for a photo set folder (its `extra` key), else the folder's name."""
        where = Path(data).expanduser().resolve()
        for name, root in self.cfg.extra.items():
            if Path(root).expanduser().resolve() == where:
                return name
        return where.name.lower()
