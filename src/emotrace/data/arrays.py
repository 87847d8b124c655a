"""Turn a `Dataset` into the arrays a model's `input_spec` asks for: stills, clips, frame sequences or windows of
frame-model embeddings (two-stage training). Everything is held as uint8 (pixels) or float32 (embeddings).

Pixels come from the face-crop cache for datasets that are not already crops (the detector and alignment run
once), or straight from the media for pre-cropped ones. Sequences feed still models through their labelled frames
(CK+: the neutral first frame and the three apex frames).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from emotrace.data.cache import CropCache, CropSettings
from emotrace.data.clips import ClipSampler, SlidingWindows, UniformClips
from emotrace.data.proxies import va_from_labels
from emotrace.data.schema import Dataset, Sample
from emotrace.errors import EmotraceError

if TYPE_CHECKING:
    import torch

log = logging.getLogger("emotrace")


@dataclass
class Arrays:
    """Model inputs and every target we may train or evaluate on, row-aligned."""

    x: np.ndarray  # (N, C, S, S) | (N, T, C, S, S) uint8, or (N, T, D) float32 for features
    y: np.ndarray  # (N,) class index, -1 where none
    soft: np.ndarray | None  # (N, C) vote distributions or None
    va: np.ndarray  # (N, 2), NaN where none
    va_proxy: bool
    sample_index: np.ndarray  # (N,) row -> dataset sample, for subject-level bookkeeping

    def __len__(self) -> int:
        return len(self.y)

    def take(self, idx: np.ndarray) -> Arrays:
        return Arrays(self.x[idx], self.y[idx], None if self.soft is None else self.soft[idx], self.va[idx],
                      self.va_proxy, self.sample_index[idx])


class FrameSource:
    """Aligned face frames (T, S, S, 3) BGR uint8 per sample, from the crop cache or the media itself."""

    def __init__(self, dataset: Dataset, size: int, cache_dir: str | Path | None, workers: int = 2,
                 align: str = "auto") -> None:
        self.size = size
        self.cache = None
        if align == "always" or (align == "auto" and not dataset.precropped):
            if not cache_dir:
                raise EmotraceError(f"{dataset.name} needs face crops: set crop_cache in the config")
            self.cache = CropCache(cache_dir, CropSettings(size=max(size, 48), align=align))
            report = self.cache.prepare(dataset, workers=workers, progress=True)
            if report.failed or report.no_face:
                log.warning("%d sample(s) without usable crops are left out (%d no face, %d failed)",
                            report.failed + report.no_face, report.no_face, report.failed)

    def frames(self, sample: Sample) -> np.ndarray | None:
        if self.cache is not None:
            try:
                crops = self.cache.load(sample.media)["crops"]
            except EmotraceError:
                return None
        else:
            crops = sample.media.load()
        if crops.shape[1:3] != (self.size, self.size):
            crops = np.stack([cv2.resize(c, (self.size, self.size), interpolation=cv2.INTER_AREA) for c in crops])
        return crops


def _to_channels(frames: np.ndarray, channels: int) -> np.ndarray:
    """(T, S, S, 3) BGR -> (T, C, S, S); one channel is gray, as every seed that uses gray."""
    if channels == 1:
        gray = np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames])
        return gray[:, None]
    return frames.transpose(0, 3, 1, 2)


def _va_rows(sample: Sample, n_frames: int) -> np.ndarray:
    va = sample.valence_arousal
    if va is None:
        return np.full((n_frames, 2), np.nan, np.float32)
    va = np.asarray(va, np.float32)
    return va if va.ndim == 2 else np.tile(va, (n_frames, 1))


def build_arrays(dataset: Dataset, spec: dict, source: FrameSource, sampler: ClipSampler | None = None,
                 embed: Callable[[np.ndarray], np.ndarray] | None = None, frames_per_video: int = 8) -> Arrays:
    """Arrays for `spec["kind"]` in image | clip | sequence | features (see the module docstring)."""
    kind, channels = spec["kind"], int(spec.get("channels") or 1)
    xs: list[np.ndarray] = []
    ys: list[int] = []
    softs: list[np.ndarray | None] = []
    vas: list[np.ndarray] = []
    owner: list[int] = []
    any_proxy = False
    for i, s in enumerate(dataset.samples):
        frames = source.frames(s)
        if frames is None:
            continue
        any_proxy |= s.va_proxy
        n = len(frames)
        va = _va_rows(s, n)
        if s.frame_labels is not None:
            flabels = np.asarray(s.frame_labels)
        else:
            flabels = np.full(n, s.label)
        if kind == "image":
            if s.media.kind == "image":
                picks = np.array([0])
            elif s.frame_labels is not None:
                picks = np.flatnonzero(flabels >= 0)
            else:
                picks = UniformClips(frames_per_video)(n)[0]
            img = _to_channels(frames[picks], channels)
            for k, f in enumerate(picks):
                xs.append(img[k])
                ys.append(int(flabels[f]))
                softs.append(s.soft_label)
                vas.append(va[f])
                owner.append(i)
            continue
        if kind in ("clip", "sequence"):
            chosen = sampler or UniformClips(int(spec.get("frames") or n))
            seq = _to_channels(frames, channels)
            for clip in chosen(n):
                xs.append(seq[clip])
                ys.append(int(s.label if s.label >= 0 else flabels[clip[-1]]))
                softs.append(s.soft_label)
                vas.append(np.nanmean(va[clip], 0) if not np.isnan(va[clip]).all() else va[clip[-1]])
                owner.append(i)
            continue
        if kind == "features":
            if embed is None:
                raise EmotraceError("a features model needs `features_from`: a trained frame model")
            emb = embed(_to_channels(frames, 1 if spec.get("frame_channels", 1) == 1 else 3))
            windows = sampler if isinstance(sampler, SlidingWindows) else None
            if windows is None:
                chosen = sampler or UniformClips(int(spec.get("frames") or n))
                pairs = [(c, int(c[-1])) for c in chosen(n)]
            else:
                valid = (flabels >= 0) | ~np.isnan(va).any(1)
                pairs = windows.windows(n, valid, s.meta.get("frame_index"))
            for w, t in pairs:
                xs.append(emb[w])
                ys.append(int(flabels[t]) if s.frame_labels is not None else int(s.label))
                softs.append(s.soft_label)
                vas.append(va[t])
                owner.append(i)
            continue
        raise EmotraceError(f"unknown input kind {kind!r}")
    if not xs:
        raise EmotraceError(f"{dataset.name}: no usable samples for a {kind} model")
    soft = None
    if all(v is not None for v in softs):
        soft = np.stack(softs).astype(np.float32)  # type: ignore[arg-type]
    va_arr = np.stack(vas).astype(np.float32)
    y = np.array(ys, np.int64)
    return Arrays(np.stack(xs), y, soft, va_arr, any_proxy, np.array(owner, np.int64))


def proxy_va_if_missing(arrays: Arrays, classes: tuple[str, ...]) -> Arrays:
    """Fill missing valence/arousal with circumplex proxies of the class label (and mark them as proxies)."""
    missing = np.isnan(arrays.va).any(1)
    if not missing.any():
        return arrays
    labels = np.where(arrays.y < 7, arrays.y, -1)  # contempt has no circumplex point
    arrays.va[missing] = va_from_labels(labels[missing])
    arrays.va_proxy = True
    return arrays


def batch_tensor(arrays: Arrays, idx: np.ndarray, kind: str) -> torch.Tensor:
    """Rows `idx` as a float tensor: pixels scaled to [0, 1] (the models' contract), features as they are."""
    import torch

    x = torch.from_numpy(arrays.x[idx])
    return x.float() if kind == "features" else x.float().div_(255)


def prepare_arrays(opts: dict, spec: dict, parts: dict[str, Dataset],
                   embed: Callable[[np.ndarray], np.ndarray] | None = None) -> dict[str, Arrays]:
    """Model inputs for every dataset part, as the model's input spec asks: what training reads and what every
    evaluation of a run scores. `opts` holds a run config's data fields (crop_cache, align, sampler,
    sampler_kwargs, frames_per_video, threads); a `features` spec needs `embed`, its frame model's embedder
    (`models.outputs.frame_features`), and that frame model's input size and channels in the spec."""
    import os

    from emotrace.data.clips import create_sampler

    if spec["kind"] == "features" and embed is None:
        raise EmotraceError("a model that reads frame-model embeddings needs features_from: a trained frame "
                            "model's run folder (two-stage training)")
    sampler = create_sampler(opts["sampler"], **opts.get("sampler_kwargs", {})) if opts.get("sampler") else None
    cache = opts.get("crop_cache") or "~/.cache/emotrace/crops"
    out = {}
    for role, ds in parts.items():
        source = FrameSource(ds, int(spec["size"] or 48), os.path.expanduser(cache),
                             workers=int(opts.get("threads", 2)), align=opts.get("align", "auto"))
        out[role] = build_arrays(ds, spec, source, sampler, embed, int(opts.get("frames_per_video", 8)))
    return out
