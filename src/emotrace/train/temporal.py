"""Train the per-track LSTM/GRU over frame-model embeddings, on CK+ subjects and sequences rendered from FER+ stills.

Stage one (the frame CNN) is frozen: sequences are rendered (`emotrace.data.synthetic`), every frame goes through
the shipped frame model once, and the temporal model learns on the cached embeddings. That is what lets a 2-core CPU
train it in minutes, and it keeps the temporal model tied to one frame model (the manifest records which).

- FER+ Train stills -> `ferplus_sequences` sequences of `length` frames, emotion changes at random points;
- CK+ subjects -> `ckplus_clips_per_subject` chains of two or three of the subject's sequences each;
- with `fold` >= 0, that fold's CK+ subjects (subject k-fold, `kfold` folds) are held out and scored on fixed test
  clips (neutral, onset, the three apex frames); `crossvalidate` runs every fold and reports the mean.

Per-frame targets: FER+ vote distributions (soft) and CK+ one-hot labels; valence/arousal targets are circumplex
proxies of those targets, learnt with a CCC loss, and are reported as proxies.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from emotrace.config import config_to_dict
from emotrace.data.proxies import va_from_distribution
from emotrace.data.synthetic import (
    CkSequence,
    RenderedSequence,
    ckplus_segments,
    ckplus_test_segments,
    render,
    still_segments,
)
from emotrace.eval.sequences import sequence_metrics
from emotrace.labels import EMOTIONS
from emotrace.models.registry import create_model
from emotrace.models.runtime import FrameModelRunner
from emotrace.provenance import git_commit
from emotrace.train.losses import ccc

NEUTRAL = EMOTIONS.index("neutral")


@dataclass
class TemporalTrainConfig:
    """Fields of a temporal-model training config (YAML, with `task: temporal`)."""

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
    epochs: int = 25
    batch_size: int = 64
    lr: float = 0.003
    weight_decay: float = 0.0001
    input_dropout: float = 0.1  # dropout on the embeddings: the model must not lean on single units
    va_weight: float = 0.5
    kfold: int = 10
    fold: int = -1  # -1 trains on every CK+ subject (the shipped model); k holds fold k's subjects out
    seed: int = 0
    threads: int = 2
    out_dir: str = "runs/temporal"
    feature_cache: str = ""  # default: <out_dir>/features-<frame model>-<seed>; k-fold runs share the base one


@dataclass
class SequenceFeatures:
    """Rendered sequences after the frame model: padded to one length, `mask` marks real frames."""

    embedding: np.ndarray  # (N, T, D)
    frame_probs: np.ndarray  # (N, T, 7)
    targets: np.ndarray  # (N, T, 7)
    labels: np.ndarray  # (N, T), -1 on padding
    change_points: list[np.ndarray]

    @property
    def mask(self) -> np.ndarray:
        return self.labels >= 0

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx: np.ndarray) -> SequenceFeatures:
        return SequenceFeatures(self.embedding[idx], self.frame_probs[idx], self.targets[idx], self.labels[idx],
                                [self.change_points[i] for i in idx])

    @staticmethod
    def concat(parts: list[SequenceFeatures]) -> SequenceFeatures:
        t = max(p.labels.shape[1] for p in parts)

        def pad(a: np.ndarray, value: float) -> np.ndarray:
            width = [(0, 0), (0, t - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
            return np.pad(a, width, constant_values=value)

        return SequenceFeatures(np.concatenate([pad(p.embedding, 0) for p in parts]),
                                np.concatenate([pad(p.frame_probs, 0) for p in parts]),
                                np.concatenate([pad(p.targets, 0) for p in parts]),
                                np.concatenate([pad(p.labels, -1) for p in parts]),
                                [c for p in parts for c in p.change_points])

    def save(self, path: Path) -> None:
        cps = np.array([np.asarray(c, np.int64) for c in self.change_points] + [np.zeros(0, np.int64)],
                       dtype=object)[:-1]
        np.savez(path, embedding=self.embedding, frame_probs=self.frame_probs, targets=self.targets,
                 labels=self.labels, change_points=cps)

    @staticmethod
    def load(path: Path) -> SequenceFeatures:
        z = np.load(path, allow_pickle=True)
        return SequenceFeatures(z["embedding"], z["frame_probs"], z["targets"], z["labels"],
                                list(z["change_points"]))


def featurise(sequences: list[RenderedSequence], runner: FrameModelRunner, batch: int = 2048) -> SequenceFeatures:
    """Run the frame model on every frame of `sequences` (padded to the longest)."""
    t = max(len(s.labels) for s in sequences)
    n, d = len(sequences), runner.embedding_dim
    emb = np.zeros((n, t, d), np.float32)
    probs = np.zeros((n, t, len(EMOTIONS)), np.float32)
    targets = np.zeros((n, t, len(EMOTIONS)), np.float32)
    labels = np.full((n, t), -1, np.int64)
    flat = np.concatenate([s.frames for s in sequences])
    seq_of = np.concatenate([np.full(len(s.labels), i) for i, s in enumerate(sequences)])
    step_of = np.concatenate([np.arange(len(s.labels)) for s in sequences])
    for start in range(0, len(flat), batch):
        out = runner(flat[start:start + batch])
        rows, cols = seq_of[start:start + batch], step_of[start:start + batch]
        emb[rows, cols], probs[rows, cols] = out["embedding"], out["probs"]
    for i, s in enumerate(sequences):
        targets[i, :len(s.labels)] = s.targets[:, :len(EMOTIONS)]
        labels[i, :len(s.labels)] = s.labels
    return SequenceFeatures(emb, probs, targets, labels, [s.change_points for s in sequences])


def ferplus_sequences(root: str, split: str, count: int, length: int, seed: int) -> list[RenderedSequence]:
    """`count` sequences from FER+ `split` stills whose plurality label is one of the seven emotions."""
    from emotrace.data.readers.ferplus import read_split

    data = read_split(root, split)
    labels = data.majority_labels()
    keep = labels >= 0
    images, soft, labels = data.images[keep], data.soft_labels()[keep], labels[keep]
    rng = np.random.default_rng(seed)
    return [render(still_segments(images, soft, labels, length, rng), rng) for _ in range(count)]


def ckplus_subjects(root: str) -> dict[str, list[CkSequence]]:
    """CK+48 sequences with a neutral first frame, by subject (contempt is not one of the seven: left out)."""
    from emotrace.data.readers import open_dataset

    ds = open_dataset(root, include_contempt=False)
    out: dict[str, list[CkSequence]] = {}
    for s in ds.samples:
        if not (s.meta or {}).get("has_neutral_first"):
            continue
        frames = s.media.load()
        gray = frames[..., 0] if frames.ndim == 4 else frames
        label = EMOTIONS.index(ds.classes[s.label])
        out.setdefault(str(s.subject), []).append(CkSequence(gray[0], gray[1:4], label))
    return out


def ckplus_chains(subjects: dict[str, list[CkSequence]], clips_per_subject: int, seed: int,
                  ) -> list[RenderedSequence]:
    """Training clips: per subject, `clips_per_subject` chains of 1-3 of its sequences in random order."""
    rng = np.random.default_rng(seed)
    eye_n = len(EMOTIONS)
    out = []
    for name in sorted(subjects):
        seqs = subjects[name]
        for _ in range(clips_per_subject):
            k = int(rng.integers(1, min(3, len(seqs)) + 1))
            chosen = [seqs[i] for i in rng.choice(len(seqs), size=k, replace=False)]
            out.append(render(ckplus_segments(chosen, eye_n, NEUTRAL, rng), rng))
    return out


def ckplus_test_clips(subjects: dict[str, list[CkSequence]], seed: int) -> tuple[list[RenderedSequence], list[int]]:
    """One fixed clip per sequence of `subjects` and its sequence label."""
    rng = np.random.default_rng(seed)
    clips, labels = [], []
    for name in sorted(subjects):
        for seq in subjects[name]:
            clips.append(render(ckplus_test_segments(seq, len(EMOTIONS), NEUTRAL), rng))
            labels.append(seq.label)
    return clips, labels


def fold_subjects(subjects: dict[str, list[CkSequence]], kfold: int, fold: int, seed: int = 0) -> set[str]:
    """The subjects of fold `fold`: subjects sorted, shuffled with `seed`, dealt round-robin into `kfold` folds."""
    names = sorted(subjects)
    order = np.random.default_rng(seed).permutation(len(names))
    return {names[i] for k, i in enumerate(order) if k % kfold == fold}


def _cached(path: Path, build: Any) -> SequenceFeatures:
    if path.is_file():
        return SequenceFeatures.load(path)
    feats = build()
    tmp = path.with_name(path.stem + ".tmp.npz")
    feats.save(tmp)
    tmp.replace(path)
    return feats


def fit(train: SequenceFeatures, cfg: TemporalTrainConfig, log: Any = print) -> torch.nn.Module:
    """Train a temporal model on cached features; per-frame soft cross-entropy plus CCC on VA proxies."""
    torch.manual_seed(cfg.seed)
    model = create_model(cfg.arch, input_dim=train.embedding.shape[-1], **cfg.arch_kwargs)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * ((len(train) + cfg.batch_size - 1) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=max(steps, 1), pct_start=0.1)
    x_all = torch.from_numpy(train.embedding)
    tgt_all = torch.from_numpy(train.targets)
    mask_all = torch.from_numpy(train.mask)
    va_all = torch.from_numpy(va_from_distribution(train.targets.reshape(-1, len(EMOTIONS)))
                              .reshape(*train.targets.shape[:2], 2))
    gen = torch.Generator().manual_seed(cfg.seed)
    for epoch in range(cfg.epochs):
        model.train()
        perm = torch.randperm(len(train), generator=gen)
        total, t0 = 0.0, time.perf_counter()
        for i in range(0, len(perm), cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            x = F.dropout(x_all[idx], cfg.input_dropout, training=True)
            out, _ = model(x)
            m = mask_all[idx]
            loss = -(tgt_all[idx][m] * F.log_softmax(out["logits"][m], -1)).sum(-1).mean()
            if "valence_arousal" in out and cfg.va_weight:
                loss = loss + cfg.va_weight * (1 - ccc(out["valence_arousal"][m], va_all[idx][m])).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        log(f"epoch {epoch + 1}/{cfg.epochs} loss {total / len(train):.4f} ({time.perf_counter() - t0:.1f}s)")
    model.eval()
    return model


@torch.no_grad()
def run_sequences(model: torch.nn.Module, feats: SequenceFeatures) -> dict[str, np.ndarray]:
    """The temporal model over whole sequences: probs (N, T, 7) and, where it has the head, valence_arousal."""
    model.eval()
    out, _ = model(torch.from_numpy(feats.embedding))
    res = {"probs": F.softmax(out["logits"], -1).numpy()}
    if "valence_arousal" in out:
        res["valence_arousal"] = out["valence_arousal"].numpy()
    return res


def ckplus_scores(model: torch.nn.Module, feats: SequenceFeatures, seq_labels: list[int]) -> dict[str, Any]:
    """Sequence accuracy on CK+ test clips: the label at the clip's last frame, temporal model vs frame model
    (last frame, and the frame model's mean over the apex frames), plus per-frame accuracy of both."""
    probs = run_sequences(model, feats)["probs"]
    y = np.asarray(seq_labels)
    last = feats.mask.sum(1) - 1
    rows = np.arange(len(y))
    apex = feats.labels == y[:, None]
    frame_mean = (feats.frame_probs * apex[..., None]).sum(1).argmax(1)
    per_frame = sequence_metrics(feats.frame_probs, probs, feats.labels, feats.change_points, fps=25.0)
    return {
        "sequences": len(y),
        "temporal_last_frame_accuracy": float((probs[rows, last].argmax(1) == y).mean()),
        "frame_last_frame_accuracy": float((feats.frame_probs[rows, last].argmax(1) == y).mean()),
        "frame_apex_mean_accuracy": float((frame_mean == y).mean()),
        "per_frame": per_frame,
        "correct": {"temporal": int((probs[rows, last].argmax(1) == y).sum()),
                    "frame": int((feats.frame_probs[rows, last].argmax(1) == y).sum())},
    }


def prepare_features(cfg: TemporalTrainConfig, log: Any = print) -> dict[str, Any]:
    """Render and featurise everything a run needs, cached (`feature_cache`) for reruns and the other folds."""
    cache = Path(cfg.feature_cache or Path(cfg.out_dir) / f"features-{cfg.frame_model}-{cfg.seed}")
    cache.mkdir(parents=True, exist_ok=True)
    runner = FrameModelRunner(cfg.frame_model, runtime="auto", threads=cfg.threads)
    subjects = ckplus_subjects(cfg.ckplus_root)
    t0 = time.perf_counter()
    fer_train = _cached(cache / f"ferplus-train-{cfg.ferplus_sequences}x{cfg.length}.npz", lambda: featurise(
        ferplus_sequences(cfg.ferplus_root, "train", cfg.ferplus_sequences, cfg.length, cfg.seed), runner))
    fer_valid = _cached(cache / f"ferplus-valid-{cfg.ferplus_valid_sequences}x{cfg.length}.npz", lambda: featurise(
        ferplus_sequences(cfg.ferplus_root, "valid", cfg.ferplus_valid_sequences, cfg.length, cfg.seed + 1),
        runner))
    ck_train = _cached(cache / f"ckplus-chains-{cfg.ckplus_clips_per_subject}.npz", lambda: featurise(
        ckplus_chains(subjects, cfg.ckplus_clips_per_subject, cfg.seed), runner))
    clips, clip_labels = ckplus_test_clips(subjects, cfg.seed)
    ck_test = _cached(cache / "ckplus-test.npz", lambda: featurise(clips, runner))
    log(f"features ready in {time.perf_counter() - t0:.0f}s ({cache})")
    clip_subjects = [name for name in sorted(subjects) for _ in subjects[name]]
    chain_subjects = [name for name in sorted(subjects) for _ in range(cfg.ckplus_clips_per_subject)]
    return {"fer_train": fer_train, "fer_valid": fer_valid, "ck_train": ck_train, "ck_test": ck_test,
            "ck_test_labels": clip_labels, "ck_test_subjects": clip_subjects, "ck_train_subjects": chain_subjects,
            "subjects": subjects}


def train_temporal(cfg: TemporalTrainConfig, command: str = "", log: Any = print) -> dict[str, Any]:
    """One model: every CK+ subject (fold -1) or all but fold `fold`'s; writes weights, metrics and a report."""
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    data = prepare_features(cfg, log)
    held = fold_subjects(data["subjects"], cfg.kfold, cfg.fold, cfg.seed) if cfg.fold >= 0 else set()
    train_idx = np.array([i for i, s in enumerate(data["ck_train_subjects"]) if s not in held], np.int64)
    train = SequenceFeatures.concat([data["fer_train"], data["ck_train"].subset(train_idx)])
    log(f"training on {len(train)} sequences ({len(train_idx)} CK+ chains; held-out subjects: {len(held)})")
    model = fit(train, cfg, log)
    torch.save(model.state_dict(), out / "final.pt")
    metrics: dict[str, Any] = {"fold": cfg.fold, "held_out_subjects": sorted(held)}
    valid = data["fer_valid"]
    vres = run_sequences(model, valid)
    metrics["ferplus_valid_synthetic"] = sequence_metrics(valid.frame_probs, vres["probs"], valid.labels,
                                                          valid.change_points, fps=25.0)
    if "valence_arousal" in vres:
        from emotrace.eval.metrics import regression_metrics

        m = valid.mask
        va_t = va_from_distribution(valid.targets[m])
        metrics["ferplus_valid_synthetic"]["va_proxy"] = regression_metrics(vres["valence_arousal"][m], va_t)
    if held:
        idx = np.array([i for i, s in enumerate(data["ck_test_subjects"]) if s in held], np.int64)
        labels = [data["ck_test_labels"][i] for i in idx]
        metrics["ckplus_held_out"] = ckplus_scores(model, data["ck_test"].subset(idx), labels)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def crossvalidate(cfg: TemporalTrainConfig, command: str = "", log: Any = print) -> dict[str, Any]:
    """Subject-independent k-fold on CK+: one model per fold, each scored on its held-out subjects' clips."""
    from emotrace.eval.report import write_report

    base = Path(cfg.out_dir)
    folds = []
    correct = {"temporal": 0, "frame": 0}
    total = 0
    for k in range(cfg.kfold):
        cache = cfg.feature_cache or str(base / f"features-{cfg.frame_model}-{cfg.seed}")
        fcfg = TemporalTrainConfig(**{**config_to_dict(cfg), "fold": k, "out_dir": str(base / f"fold{k}"),
                                      "feature_cache": cache})
        fcfg.arch_kwargs = dict(cfg.arch_kwargs)
        done = Path(fcfg.out_dir) / "metrics.json"
        m = json.loads(done.read_text()) if done.is_file() else train_temporal(fcfg, command, log)
        ck = m["ckplus_held_out"]
        folds.append({"fold": k, "sequences": ck["sequences"], "temporal": ck["temporal_last_frame_accuracy"],
                      "frame": ck["frame_last_frame_accuracy"], "frame_apex_mean": ck["frame_apex_mean_accuracy"]})
        correct["temporal"] += ck["correct"]["temporal"]
        correct["frame"] += ck["correct"]["frame"]
        total += ck["sequences"]
        log(f"fold {k}: temporal {ck['temporal_last_frame_accuracy']:.4f} frame {ck['frame_last_frame_accuracy']:.4f}")
    summary = {
        "kfold": cfg.kfold, "sequences": total,
        "temporal_accuracy": correct["temporal"] / max(total, 1),
        "frame_accuracy": correct["frame"] / max(total, 1),
        "temporal_mean_fold_accuracy": float(np.mean([f["temporal"] for f in folds])),
        "frame_mean_fold_accuracy": float(np.mean([f["frame"] for f in folds])),
        "frame_apex_mean_accuracy": float(np.mean([f["frame_apex_mean"] for f in folds])),
        "folds": folds,
    }
    (base / "crossval.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_report(base, {k: v for k, v in summary.items() if k != "folds"},
                 title=f"{cfg.arch} on CK+ ({cfg.kfold}-fold, subject-independent) vs the frame model alone",
                 command=command or None, config=config_to_dict(cfg), commit=git_commit())
    return summary
