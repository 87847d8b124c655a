"""Clip samplers: turn a sequence of n frames into the frame-index lists a model consumes (as pytorchvideo's
`ClipSampler`). Each returns plain index arrays, so the same rule works on decoded frames, cached crops or
cached embeddings.

- `FixedLengthClips` is seed 1's rule for CREMA-D: clips of L = 75 frames; videos under 35 frames are dropped;
  35..L-1 frames are padded to L by repeating the last frame; L..2L-1 frames keep the first L; 2L or more are cut
  into consecutive L-frame clips that share the label (a remainder shorter than L is dropped, as in L..2L-1).
- `SlidingWindows` is seed 4's: windows of W = 100 frames with a stride, each paired with the frame after it
  (the target the RNN predicts); windows never span an invalid frame or a gap in frame numbering.
- `UniformClips` picks T frames spread evenly over the sequence (repeating frames of short ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class ClipSampler:
    """Maps a sequence length (and optional validity) to clips: a list of index arrays into the sequence."""

    def __call__(self, n_frames: int, valid: np.ndarray | None = None) -> list[np.ndarray]:
        raise NotImplementedError


@dataclass(frozen=True)
class FixedLengthClips(ClipSampler):
    length: int = 75
    min_frames: int = 35
    split_long: bool = True

    def __call__(self, n_frames: int, valid: np.ndarray | None = None) -> list[np.ndarray]:
        L = self.length
        if n_frames < self.min_frames or n_frames <= 0:
            return []
        if n_frames < L:
            return [np.concatenate([np.arange(n_frames), np.full(L - n_frames, n_frames - 1)])]
        count = n_frames // L if self.split_long else 1
        return [np.arange(i * L, (i + 1) * L) for i in range(count)]


@dataclass(frozen=True)
class SlidingWindows(ClipSampler):
    """Windows [t-W, t) with target t; with `predict_next=False` the target is the window's last frame."""

    window: int = 100
    stride: int = 1
    predict_next: bool = True

    def windows(self, n_frames: int, valid: np.ndarray | None = None,
                frame_index: np.ndarray | None = None) -> list[tuple[np.ndarray, int]]:
        """(window indices, target index) pairs inside runs of valid, consecutively numbered frames."""
        ok = np.ones(n_frames, bool) if valid is None else np.asarray(valid, bool)
        if frame_index is not None:
            gap = np.ones(n_frames, bool)
            gap[1:] = np.diff(np.asarray(frame_index)) != 1
        else:
            gap = np.zeros(n_frames, bool)
            gap[0] = True
        need = self.window + (1 if self.predict_next else 0)
        out: list[tuple[np.ndarray, int]] = []
        start = 0
        for i in range(n_frames + 1):
            run_ends = i == n_frames or not ok[i] or (i > start and gap[i])
            if not run_ends:
                continue
            # frames start..i-1 form one run
            for s in range(start, i - need + 1, self.stride):
                idx = np.arange(s, s + self.window)
                out.append((idx, s + self.window if self.predict_next else s + self.window - 1))
            start = i + 1 if (i < n_frames and not ok[i]) else i
        return out

    def __call__(self, n_frames: int, valid: np.ndarray | None = None) -> list[np.ndarray]:
        return [w for w, _ in self.windows(n_frames, valid)]


@dataclass(frozen=True)
class UniformClips(ClipSampler):
    frames: int = 16

    def __call__(self, n_frames: int, valid: np.ndarray | None = None) -> list[np.ndarray]:
        if n_frames <= 0:
            return []
        return [np.round(np.linspace(0, n_frames - 1, self.frames)).astype(np.int64)]


def create_sampler(name: str, **kwargs: object) -> ClipSampler:
    """Samplers by name for YAML configs: `fixed`, `sliding`, `uniform`."""
    table = {"fixed": FixedLengthClips, "sliding": SlidingWindows, "uniform": UniformClips}
    if name not in table:
        raise ValueError(f"unknown clip sampler {name!r}; choose from {', '.join(table)}")
    return table[name](**kwargs)  # type: ignore[arg-type]
