"""Rendered sequences after the frame model (embeddings, frame probabilities, per-frame targets), and the temporal
model's scores on them: shared by temporal training and `emotrace evaluate`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from emotrace.data.npz import save_npz
from emotrace.data.synthetic import RenderedSequence
from emotrace.eval.sequences import sequence_metrics
from emotrace.labels import EMOTIONS
from emotrace.models.runtime import FrameModelRunner

if TYPE_CHECKING:
    from emotrace.faces.signals import SignalReader


@dataclass
class SequenceFeatures:
    """Rendered sequences after the frame model: padded to one length, `mask` marks real frames. `signals`, where
    read (`read_signals`), are each frame's face signals, stacked beside the embedding as the temporal model's
    input."""

    embedding: np.ndarray  # (N, T, D)
    frame_probs: np.ndarray  # (N, T, 7)
    targets: np.ndarray  # (N, T, 7)
    labels: np.ndarray  # (N, T), -1 on padding
    change_points: list[np.ndarray]
    signals: np.ndarray | None = None  # (N, T, SIGNAL_FEATURES)

    @property
    def mask(self) -> np.ndarray:
        return self.labels >= 0

    def inputs(self) -> np.ndarray:
        """What the temporal model reads: the embedding, with the signals after it where they were read."""
        if self.signals is None:
            return self.embedding
        return np.concatenate([self.embedding, self.signals], axis=-1)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx: np.ndarray) -> SequenceFeatures:
        return SequenceFeatures(self.embedding[idx], self.frame_probs[idx], self.targets[idx], self.labels[idx],
                                [self.change_points[i] for i in idx],
                                None if self.signals is None else self.signals[idx])

    @staticmethod
    def concat(parts: list[SequenceFeatures]) -> SequenceFeatures:
        t = max(p.labels.shape[1] for p in parts)
        if len({p.signals is None for p in parts}) > 1:
            raise ValueError("sequence features with and without signals cannot be joined")

        def pad(a: np.ndarray, value: float) -> np.ndarray:
            width = [(0, 0), (0, t - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
            return np.pad(a, width, constant_values=value)

        return SequenceFeatures(np.concatenate([pad(p.embedding, 0) for p in parts]),
                                np.concatenate([pad(p.frame_probs, 0) for p in parts]),
                                np.concatenate([pad(p.targets, 0) for p in parts]),
                                np.concatenate([pad(p.labels, -1) for p in parts]),
                                [c for p in parts for c in p.change_points],
                                None if parts[0].signals is None else
                                np.concatenate([pad(p.signals, 0) for p in parts]))  # type: ignore[arg-type]

    def save(self, path: Path) -> None:
        cps = np.array([np.asarray(c, np.int64) for c in self.change_points] + [np.zeros(0, np.int64)],
                       dtype=object)[:-1]
        save_npz(path, embedding=self.embedding, frame_probs=self.frame_probs, targets=self.targets,
                 labels=self.labels, change_points=cps)

    @staticmethod
    def load(path: Path) -> SequenceFeatures:
        z = np.load(path, allow_pickle=True)
        return SequenceFeatures(z["embedding"], z["frame_probs"], z["targets"], z["labels"],
                                list(z["change_points"]))


def feature_cache_dir(cfg: Mapping[str, Any]) -> Path:
    """Where a temporal run keeps its rendered sequences after the frame model: `feature_cache`, else
    <out_dir>/features-<frame model>-<seed> (the folds of a k-fold share the base run's)."""
    return Path(cfg.get("feature_cache") or Path(cfg.get("out_dir") or ".")
                / f"features-{cfg.get('frame_model')}-{cfg.get('seed', 0)}")


def feature_file(part: str, cfg: Mapping[str, Any]) -> str:
    """The cache file of one part of a temporal run's data (its name carries the sizes that decide it)."""
    return {"fer_train": f"ferplus-train-{cfg['ferplus_sequences']}x{cfg['length']}.npz",
            "fer_valid": f"ferplus-valid-{cfg['ferplus_valid_sequences']}x{cfg['length']}.npz",
            "ck_train": f"ckplus-chains-{cfg['ckplus_clips_per_subject']}.npz",
            "ck_test": "ckplus-test.npz"}[part]


def signals_file(part: str, cfg: Mapping[str, Any]) -> str:
    """The cache file of one part's face signals, beside its features (the embeddings' cache is shared with runs
    that do not read signals)."""
    return feature_file(part, cfg).replace(".npz", "-signals.npz")


def read_signals(sequences: list[RenderedSequence], reader: SignalReader | None = None) -> np.ndarray:
    """(N, T, SIGNAL_FEATURES): the face signals of every frame of `sequences` (padded to the longest), each frame
    read as the pipeline reads a photo that is a face crop: the whole frame is the face's box. Without a `reader`,
    one is opened for the call."""
    from emotrace.faces.signals import SIGNAL_FEATURES, SignalReader, signal_features
    from emotrace.types import Detections

    if reader is None:
        own = SignalReader()
        try:
            return read_signals(sequences, own)
        finally:
            own.close()
    t = max(len(s.labels) for s in sequences)
    out = np.zeros((len(sequences), t, SIGNAL_FEATURES), np.float32)
    for i, seq in enumerate(sequences):
        for j, frame in enumerate(seq.frames):
            h, w = frame.shape[:2]
            image = np.ascontiguousarray(np.repeat(frame[..., None], 3, axis=2)) if frame.ndim == 2 else frame
            faces = Detections(boxes=np.array([[0, 0, w, h]], np.float32), scores=np.ones(1, np.float32))
            out[i, j] = signal_features(reader.read(image, faces, still=True))[0]
    return out


def cached_signals(path: Path, build: Callable[[], np.ndarray]) -> np.ndarray:
    """The signals at `path`, read and saved first if missing."""
    if path.is_file():
        return np.load(path)["signals"]
    signals = build()
    save_npz(path, signals=signals)
    return signals


def cached_features(path: Path, build: Callable[[], SequenceFeatures]) -> SequenceFeatures:
    """The features at `path`, built and saved first if missing."""
    if path.is_file():
        return SequenceFeatures.load(path)
    feats = build()
    feats.save(path)
    return feats


def featurise(sequences: list[RenderedSequence], runner: FrameModelRunner, batch: int = 256) -> SequenceFeatures:
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


@torch.no_grad()
def run_sequences(model: torch.nn.Module, feats: SequenceFeatures) -> dict[str, np.ndarray]:
    """The temporal model over whole sequences: probs (N, T, 7) and, where it has the head, valence_arousal."""
    model.eval()
    out, _ = model(torch.from_numpy(feats.inputs()))
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
