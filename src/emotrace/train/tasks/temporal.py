"""Temporal task: the per-track LSTM/GRU over frame-model embeddings, on CK+ subjects and sequences rendered from
FER+ stills.

Stage one (the frame CNN) is frozen: sequences are rendered (`data/rendered.py`), every frame goes through the
shipped frame model once, and the temporal model learns on the cached embeddings. That is what lets a 2-core CPU
train it in minutes, and it ties the temporal model to one frame model (the manifest records which).

- FER+ Train stills -> `ferplus_sequences` sequences of `length` frames, emotion changes at random points;
- CK+ subjects -> `ckplus_clips_per_subject` chains of one to three of the subject's sequences each;
- with `fold` >= 0, that fold's CK+ subjects are held out and scored on fixed test clips (`train/crossval.py` runs
  every fold).

Per-frame targets: FER+ vote distributions (soft) and CK+ one-hot labels; valence/arousal targets are circumplex
proxies of those targets, learnt with a CCC loss, and reported as proxies.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from emotrace.config import config_to_dict
from emotrace.data.proxies import va_from_distribution
from emotrace.data.rendered import ckplus_chains, ckplus_subjects, ckplus_test_clips, ferplus_sequences, fold_subjects
from emotrace.eval.evaluation import Evaluation
from emotrace.eval.sequence_features import (
    SequenceFeatures,
    cached_features,
    cached_signals,
    ckplus_scores,
    feature_cache_dir,
    feature_file,
    featurise,
    read_signals,
    run_sequences,
    signals_file,
)
from emotrace.eval.sequences import sequence_metrics
from emotrace.labels import EMOTIONS
from emotrace.models.contract import ModelContract, contract_of
from emotrace.models.runtime import FrameModelRunner
from emotrace.train.config import EngineConfig
from emotrace.train.losses import ccc
from emotrace.train.tasks.base import PLAIN, EvalRequest, Task

if TYPE_CHECKING:
    from emotrace.models.checkpoint import LoadedModel

log = logging.getLogger("emotrace")


@dataclass
class TemporalConfig(EngineConfig):
    """Temporal-model fields on top of the engine's."""

    task: str = "temporal"
    frame_model: str = "emotrace-cnn-m-ferplus"  # shipped frame weights whose embeddings the model reads
    ferplus_root: str = "../shared/data/ferplus"
    ckplus_root: str = "../shared/data/ckplus"
    arch: str = "emotrace-gru"
    arch_kwargs: dict[str, Any] = field(default_factory=lambda: {"hidden": 128, "valence_arousal": True})
    ferplus_sequences: int = 2000
    ferplus_valid_sequences: int = 300
    ckplus_clips_per_subject: int = 6
    length: int = 96
    input_dropout: float = 0.1  # dropout on the embeddings: the model must not lean on single units
    va_weight: float = 0.5
    kfold: int = 10
    fold: int = -1  # -1 trains on every CK+ subject (the shipped model); k holds fold k's subjects out
    feature_cache: str = ""  # default: <out_dir>/features-<frame model>-<seed>; k-fold runs share the base one
    # time-aware models (emotrace-tgru / emotrace-tlstm): each batch is resampled to another frame rate
    fps: float = 30.0  # the frame rate rendered sequences stand for
    rate_factors: list[float] = field(default_factory=lambda: [0.5, 1.0, 2.0])  # 60, 30 and 15 fps
    drop_prob: float = 0.1  # per step: a dropped frame (the interval doubles)
    gap_prob: float = 0.15  # per sequence: one gap longer than the model's reset_s
    change_weight: float = 0.0  # penalty on the change between consecutive outputs (L1 of probs per second)
    # stack each frame's face signals (52 blendshapes, head pose; faces/signals.SIGNAL_FEATURES) beside the
    # embedding, as seed 1 proposes for action units; measured against the embedding alone in docs/signals.md
    signals: bool = False
    epochs: int = 25
    batch_size: int = 64
    lr: float = 0.003
    weight_decay: float = 0.0001
    optimizer: str = "adamw"
    scheduler: str = "onecycle"
    pct_start: float = 0.1
    grad_clip: float = 1.0
    best_metric: str = "frame_accuracy"
    ship_checkpoint: str = "final"


def prepare_features(cfg: TemporalConfig, parts: tuple[str, ...] = ("fer_train", "fer_valid", "ck_train",
                                                                     "ck_test")) -> dict[str, Any]:
    """Render and featurise the parts a run needs, cached (`feature_cache`) for reruns, the other folds and the
    run's evaluation, with the CK+ subjects behind them."""
    c = config_to_dict(cfg)
    cache = feature_cache_dir(c)
    runner = FrameModelRunner(cfg.frame_model, runtime="auto", threads=cfg.threads)
    subjects = ckplus_subjects(cfg.ckplus_root)
    clips, clip_labels = ckplus_test_clips(subjects, cfg.seed)
    build = {
        "fer_train": lambda: ferplus_sequences(cfg.ferplus_root, "train", cfg.ferplus_sequences, cfg.length,
                                               cfg.seed),
        "fer_valid": lambda: ferplus_sequences(cfg.ferplus_root, "valid", cfg.ferplus_valid_sequences, cfg.length,
                                               cfg.seed + 1),
        "ck_train": lambda: ckplus_chains(subjects, cfg.ckplus_clips_per_subject, cfg.seed),
        "ck_test": lambda: clips,
    }
    t0 = time.perf_counter()
    data: dict[str, Any] = {part: cached_features(cache / feature_file(part, c),
                                                  lambda part=part: featurise(build[part](), runner))
                            for part in parts}
    if cfg.signals:
        from emotrace.faces.signals import SignalReader

        missing = [part for part in parts if not (cache / signals_file(part, c)).is_file()]
        reader = SignalReader() if missing else None  # the landmarker is loaded only to read what is not cached
        try:
            for part in parts:
                data[part].signals = cached_signals(cache / signals_file(part, c),
                                                    lambda part=part: read_signals(build[part](), reader))
        finally:
            if reader is not None:
                reader.close()
    log.info("features ready in %.0fs (%s)", time.perf_counter() - t0, cache)
    data.update(ck_test_labels=clip_labels, subjects=subjects,
                ck_test_subjects=[name for name in sorted(subjects) for _ in subjects[name]],
                ck_train_subjects=[name for name in sorted(subjects) for _ in range(cfg.ckplus_clips_per_subject)])
    return data


def resample(batch: dict[str, torch.Tensor], gen: torch.Generator, fps: float, factors: list[float],
             drop_prob: float, gap_prob: float, reset_s: float) -> dict[str, torch.Tensor]:
    """The batch's sequences seen at another frame rate: per sequence a rate factor (0.5 = twice the frame rate,
    frames interpolated), dropped frames and at most one long gap; adds `dt` (seconds since the previous step).
    Why: the time-aware model must give the same answer at 15, 30 and 60 fps and learn what a gap means."""
    x, mask = batch["x"], batch["mask"]
    n, t = mask.shape
    length = mask.sum(1).to(torch.float32)
    f = torch.tensor(factors, dtype=torch.float32)[torch.randint(len(factors), (n,), generator=gen)]
    inc = f[:, None].expand(n, t).clone()
    inc = inc * (1 + (torch.rand(n, t, generator=gen) < drop_prob).float())
    gap_at = torch.randint(1, t, (n,), generator=gen)
    has_gap = torch.rand(n, generator=gen) < gap_prob
    gap = (reset_s * 1.2 + torch.rand(n, generator=gen)) * fps
    inc[torch.arange(n)[has_gap], gap_at[has_gap]] = gap[has_gap]
    inc[:, 0] = torch.rand(n, generator=gen) * f  # start anywhere in the first interval
    pos = inc.cumsum(1)
    dt = inc / fps
    dt[:, 0] = 1.0 / fps
    valid = pos <= (length[:, None] - 1)
    pos = pos.clamp(max=t - 1)
    lo = pos.floor().long().clamp(max=t - 1)
    hi = (lo + 1).clamp(max=t - 1)
    w = (pos - lo.float())[..., None]
    rows = torch.arange(n)[:, None]

    def lerp(a: torch.Tensor) -> torch.Tensor:
        return a[rows, lo] * (1 - w) + a[rows, hi] * w

    near = torch.where(w[..., 0] < 0.5, lo, hi)
    return {"x": lerp(x), "tgt": lerp(batch["tgt"]), "va": lerp(batch["va"]),
            "mask": valid & mask[rows, near], "dt": dt}


def change_per_second(logits: torch.Tensor, mask: torch.Tensor, dt: torch.Tensor | None, fps: float) -> torch.Tensor:
    """Total variation of the output probabilities (L1 between consecutive steps) per second of sequence: the same
    for a signal seen at any frame rate, so the penalty does not favour one rate."""
    p = F.softmax(logits, -1)
    step = (p[:, 1:] - p[:, :-1]).abs().sum(-1)
    both = mask[:, 1:] & mask[:, :-1]
    dts = dt[:, 1:] if dt is not None else torch.full_like(step, 1.0 / fps)
    return (step * both).sum() / (dts * both).sum().clamp(min=1e-6)


class TemporalTask(Task):
    """Per-frame soft cross-entropy (plus CCC on valence/arousal proxies) over cached frame embeddings."""

    name = "temporal"
    config_class = TemporalConfig
    default_best_metric = "frame_accuracy"
    cfg: TemporalConfig

    def setup(self, device: torch.device) -> None:
        super().setup(device)
        cfg = self.cfg
        data = prepare_features(cfg)
        self.data = data
        self.held = self._held(data)
        idx = np.array([i for i, s in enumerate(data["ck_train_subjects"]) if s not in self.held], np.int64)
        train = SequenceFeatures.concat([data["fer_train"], data["ck_train"].subset(idx)])
        if cfg.max_train:
            train = train.subset(np.arange(min(cfg.max_train, len(train))))
        self.valid = self._capped_valid(data["fer_valid"])
        log.info("training on %d sequences (%d CK+ chains; held-out subjects: %d)", len(train), len(idx),
                 len(self.held))
        keep_on = self.storage_device()
        self.x = torch.from_numpy(train.inputs()).to(keep_on)
        self.tgt = torch.from_numpy(train.targets).to(keep_on)
        self.mask = torch.from_numpy(train.mask).to(keep_on)
        va = va_from_distribution(train.targets.reshape(-1, len(EMOTIONS))).reshape(*train.targets.shape[:2], 2)
        self.va = torch.from_numpy(va).to(keep_on)
        self.input_dim = int(self.x.shape[-1])

    def _capped_valid(self, valid: SequenceFeatures) -> SequenceFeatures:
        return valid.subset(np.arange(min(self.cfg.max_eval, len(valid)))) if self.cfg.max_eval else valid

    def arch_kwargs(self) -> dict[str, Any]:
        return {"input_dim": self.input_dim, **self.cfg.arch_kwargs}

    def _held(self, data: dict[str, Any]) -> set[str]:
        """The CK+ subjects of this run's fold (none for a run on every subject)."""
        cfg = self.cfg
        return fold_subjects(data["subjects"], cfg.kfold, cfg.fold, cfg.seed) if cfg.fold >= 0 else set()

    def build_model(self) -> torch.nn.Module:
        from emotrace.models import create_model

        model = create_model(self.cfg.arch, **self.arch_kwargs())
        # A model that reads the time between steps (time-aware or look-ahead) says so; its batches are resampled.
        self.time_aware = bool(getattr(model, "time_aware", False) or getattr(model, "offline", False))
        return model

    def train_size(self) -> int:
        return len(self.x)

    def batch(self, idx: np.ndarray, gen: torch.Generator) -> dict[str, torch.Tensor]:
        i = torch.from_numpy(idx).to(self.x.device)
        out = {k: v[i] for k, v in (("x", self.x), ("tgt", self.tgt), ("mask", self.mask), ("va", self.va))}
        if self.time_aware:
            out = resample(out, gen, self.cfg.fps, self.cfg.rate_factors, self.cfg.drop_prob, self.cfg.gap_prob,
                           float(self.cfg.arch_kwargs.get("reset_s", 1.0)))
        return {k: v.to(self.device) for k, v in out.items()}

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = F.dropout(batch["x"], self.cfg.input_dropout, training=True)
        out, _ = model(x, batch["dt"]) if "dt" in batch else model(x)
        m = batch["mask"]
        logits = out["logits"].float()
        loss = -(batch["tgt"][m] * F.log_softmax(logits[m], -1)).sum(-1).mean()
        if "valence_arousal" in out and self.cfg.va_weight:
            loss = loss + self.cfg.va_weight * (1 - ccc(out["valence_arousal"].float()[m], batch["va"][m])).mean()
        if self.cfg.change_weight:
            loss = loss + self.cfg.change_weight * change_per_second(logits, m, batch.get("dt"), self.cfg.fps)
        return loss

    def _valid_metrics(self, model: torch.nn.Module, valid: SequenceFeatures | None = None) -> dict[str, Any]:
        valid = self.valid if valid is None else valid
        res = run_sequences(model, valid)
        m = sequence_metrics(valid.frame_probs, res["probs"], valid.labels, valid.change_points, fps=25.0)
        if "valence_arousal" in res:
            from emotrace.eval.metrics import regression_metrics

            m["va_proxy"] = regression_metrics(res["valence_arousal"][valid.mask],
                                               va_from_distribution(valid.targets[valid.mask]))
        return m

    def validate(self, model: torch.nn.Module) -> dict[str, float]:
        m = self._valid_metrics(model)
        row = {k: float(v) for k, v in m["temporal"].items() if isinstance(v, (int, float))}
        if "va_proxy" in m:
            row["va_proxy_mean_ccc"] = float(m["va_proxy"]["mean_ccc"])
        return row

    def contract(self, model: torch.nn.Module) -> ModelContract:
        outputs = ("logits", "valence_arousal") if getattr(model, "va_head", None) is not None else ("logits",)
        extra: dict[str, Any] = {"frame_model": self.cfg.frame_model}
        if self.cfg.signals:
            from emotrace.faces.signals import SIGNAL_FEATURES

            extra["signals"] = SIGNAL_FEATURES  # the input's last values: the pipeline must feed them
        return contract_of(model, EMOTIONS, outputs, **extra)

    def evaluate(self, loaded: LoadedModel, data: str | None = None,
                 request: EvalRequest = PLAIN) -> Evaluation:
        """A folder of videos (flicker through the pipeline), FER+ (rendered Valid sequences) or CK+ (test clips);
        no data: the run's own Valid sequences and held-out CK+ subjects."""
        if data is None or request.photos:
            return super().evaluate(loaded, data, request)
        from emotrace.eval.temporal import temporal_evaluation

        return temporal_evaluation(loaded, data)

    def evaluate_own(self, loaded: LoadedModel) -> Evaluation:
        if not hasattr(self, "data"):  # made from a run's config: only the parts its evaluation reads
            self.data = prepare_features(self.cfg, ("fer_valid", "ck_test"))
            self.held = self._held(self.data)
            self.valid = self._capped_valid(self.data["fer_valid"])
        model = loaded.model.cpu()
        metrics: dict[str, Any] = {"fold": self.cfg.fold, "held_out_subjects": sorted(self.held),
                                   "ferplus_valid_synthetic": self._valid_metrics(model)}
        if self.held:
            data = self.data
            idx = np.array([i for i, s in enumerate(data["ck_test_subjects"]) if s in self.held], np.int64)
            labels = [data["ck_test_labels"][i] for i in idx]
            metrics["ckplus_held_out"] = ckplus_scores(model, data["ck_test"].subset(idx), labels)
        syn = metrics["ferplus_valid_synthetic"]
        shown = {"temporal_frame_accuracy": syn["temporal"]["frame_accuracy"],
                 "frame_model_frame_accuracy": syn["frame"]["frame_accuracy"],
                 "temporal_label_changes_per_s": syn["temporal"]["label_changes_per_s"],
                 "frame_model_label_changes_per_s": syn["frame"]["label_changes_per_s"]}
        if "ckplus_held_out" in metrics:
            shown["ckplus_held_out_temporal"] = metrics["ckplus_held_out"]["temporal_last_frame_accuracy"]
            shown["ckplus_held_out_frame"] = metrics["ckplus_held_out"]["frame_last_frame_accuracy"]
        return Evaluation(metrics, title=f"{self.cfg.name}: {self.cfg.arch} over {self.cfg.frame_model} embeddings",
                          headline=shown)
