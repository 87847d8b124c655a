"""Video-like face sequences rendered from stills, with a known label on every frame and known change points.

Why: the temporal model must learn that an expression persists while the pixels jitter, and must still follow a
real change within a few frames. No dataset here has video with per-frame emotion labels, so sequences are
rendered from stills. A sequence is a list of `Segment`s (one still shown for some frames, optionally cross-faded
in from the previous one); `render` then applies frame-to-frame change of the kinds a face tracker's crops show:

- motion: translation, rotation and scale follow a damped random walk (the head drifts and comes back);
- light: brightness and contrast drift slowly;
- blur: short episodes of Gaussian blur (motion blur, focus hunting);
- noise: per-frame Gaussian sensor noise, its strength drawn per sequence;
- occlusion: at most one brief episode per sequence where a flat rectangle (a hand, a cup) covers part of the face.

Two sources of segments: `still_segments` (FER+ stills, a change of emotion at every segment boundary, which is
also a change of identity because FER2013 has no identities) and `ckplus_segments` (one CK+ subject: neutral first
frame, an onset cross-fade into the three apex frames, back to neutral, next sequence of the same subject).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Perturbation:
    """Strength of the frame-to-frame change; sizes are for 48x48 crops (scale with the crop size)."""

    shift_px: float = 0.5  # std of the per-frame step of the translation random walk, pixels
    rotate_deg: float = 0.5  # std of the per-frame rotation step
    scale_step: float = 0.004  # std of the per-frame scale step
    damping: float = 0.92  # each frame the pose is pulled back toward the centre by this factor
    noise_std: tuple[float, float] = (0.0, 6.0)  # gray levels, drawn per sequence
    light_step: float = 0.01  # std of the brightness random-walk step, fraction of full range
    contrast_step: float = 0.01
    blur_start_prob: float = 0.03  # per frame
    blur_sigma: tuple[float, float] = (0.6, 1.4)
    blur_frames: tuple[int, int] = (2, 6)
    occlusion_prob: float = 0.3  # per sequence
    occlusion_frames: tuple[int, int] = (3, 10)
    occlusion_area: tuple[float, float] = (0.12, 0.3)  # fraction of the crop


@dataclass
class Segment:
    """One still shown for `frames` frames; the first `fade` of them cross-fade from the previous segment."""

    image: np.ndarray  # (S, S) uint8
    target: np.ndarray  # (C,) float32 distribution over classes
    label: int
    frames: int
    fade: int = 0


@dataclass
class RenderedSequence:
    frames: np.ndarray  # (T, S, S) uint8
    labels: np.ndarray  # (T,) int64
    targets: np.ndarray  # (T, C) float32
    change_points: np.ndarray  # frame indices where the label differs from the previous frame's


def render(segments: list[Segment], rng: np.random.Generator, perturb: Perturbation | None = None) -> RenderedSequence:
    """Frames, per-frame labels and soft targets of a sequence of segments, with `perturb` applied."""
    p = perturb or Perturbation()
    size = segments[0].image.shape[0]
    total = sum(s.frames for s in segments)
    base = np.empty((total, size, size), np.float32)
    labels = np.empty(total, np.int64)
    targets = np.empty((total, len(segments[0].target)), np.float32)
    t = 0
    prev: Segment | None = None
    for seg in segments:
        for j in range(seg.frames):
            w = (j + 1) / (seg.fade + 1) if prev is not None and j < seg.fade else 1.0
            img = seg.image.astype(np.float32)
            if w < 1.0:
                img = (1 - w) * prev.image.astype(np.float32) + w * img  # type: ignore[union-attr]
                labels[t] = seg.label if w >= 0.5 else prev.label  # type: ignore[union-attr]
                targets[t] = (1 - w) * prev.target + w * seg.target  # type: ignore[union-attr]
            else:
                labels[t], targets[t] = seg.label, seg.target
            base[t] = img
            t += 1
        prev = seg
    frames = _perturb(base, rng, p)
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    return RenderedSequence(frames, labels, targets, change)


def _perturb(base: np.ndarray, rng: np.random.Generator, p: Perturbation) -> np.ndarray:
    n, size = len(base), base.shape[1]
    k = size / 48.0
    out = np.empty(base.shape, np.uint8)
    pose = np.zeros(4)  # dx, dy, angle, log-scale
    light, contrast = 0.0, 1.0
    noise = rng.uniform(*p.noise_std)
    blur_left, blur_sigma = 0, 0.0
    occ = None
    if rng.random() < p.occlusion_prob and n > p.occlusion_frames[0]:
        length = int(rng.integers(p.occlusion_frames[0], p.occlusion_frames[1] + 1))
        start = int(rng.integers(0, max(1, n - length)))
        area = rng.uniform(*p.occlusion_area) * size * size
        aspect = rng.uniform(0.5, 2.0)
        w = int(np.clip(np.sqrt(area * aspect), 4, size))
        h = int(np.clip(area / max(w, 1), 4, size))
        x0, y0 = int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))
        occ = (start, start + length, x0, y0, w, h, float(rng.uniform(20, 220)))
    centre = (size / 2, size / 2)
    for t in range(n):
        pose = p.damping * pose + rng.normal(0, [p.shift_px * k, p.shift_px * k, p.rotate_deg, p.scale_step])
        light = 0.97 * light + rng.normal(0, p.light_step)
        contrast = 1 + 0.97 * (contrast - 1) + rng.normal(0, p.contrast_step)
        m = cv2.getRotationMatrix2D(centre, float(pose[2]), float(np.exp(pose[3])))
        m[:, 2] += pose[:2]
        img = cv2.warpAffine(base[t], m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if blur_left == 0 and rng.random() < p.blur_start_prob:
            blur_left = int(rng.integers(p.blur_frames[0], p.blur_frames[1] + 1))
            blur_sigma = float(rng.uniform(*p.blur_sigma)) * k
        if blur_left:
            img = cv2.GaussianBlur(img, (0, 0), blur_sigma)
            blur_left -= 1
        mean = img.mean()
        img = (img - mean) * contrast + mean + light * 255
        if occ is not None and occ[0] <= t < occ[1]:
            _, _, x0, y0, w, h, value = occ
            img[y0:y0 + h, x0:x0 + w] = value
        if noise:
            img = img + rng.normal(0, noise, img.shape)
        out[t] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def still_segments(images: np.ndarray, targets: np.ndarray, labels: np.ndarray, length: int,
                   rng: np.random.Generator, segment_frames: tuple[int, int] = (12, 72),
                   fade_frames: tuple[int, int] = (0, 6)) -> list[Segment]:
    """Stills drawn at random until `length` frames are filled; each new still has a different label."""
    segments: list[Segment] = []
    filled, current = 0, -1
    while filled < length:
        choices = np.flatnonzero(labels != current)
        i = int(rng.choice(choices))
        frames = min(int(rng.integers(segment_frames[0], segment_frames[1] + 1)), length - filled)
        fade = int(rng.integers(fade_frames[0], fade_frames[1] + 1)) if segments else 0
        img = images[i] if rng.random() < 0.5 else images[i][:, ::-1].copy()
        segments.append(Segment(img, targets[i].astype(np.float32), int(labels[i]), frames, min(fade, frames - 1)))
        filled += frames
        current = int(labels[i])
    return segments


@dataclass
class CkSequence:
    """One labelled CK+ sequence: its neutral first frame and three apex frames (48x48 gray)."""

    neutral: np.ndarray
    apex: np.ndarray  # (3, S, S)
    label: int


def ckplus_segments(sequences: list[CkSequence], num_classes: int, neutral_index: int, rng: np.random.Generator,
                    neutral_frames: tuple[int, int] = (8, 30), onset_frames: tuple[int, int] = (3, 8),
                    apex_frames: tuple[int, int] = (4, 14)) -> list[Segment]:
    """One subject's sequences chained: neutral, onset cross-fade into apex 1, apex 2, apex 3, then the next one
    (each starting from its own neutral frame, cross-faded back from the previous apex)."""
    eye = np.eye(num_classes, dtype=np.float32)
    segments: list[Segment] = []
    for seq in sequences:
        segments.append(Segment(seq.neutral, eye[neutral_index], neutral_index,
                                int(rng.integers(neutral_frames[0], neutral_frames[1] + 1)),
                                fade=int(rng.integers(onset_frames[0], onset_frames[1] + 1)) if segments else 0))
        onset = int(rng.integers(onset_frames[0], onset_frames[1] + 1))
        for j, img in enumerate(seq.apex):
            frames = int(rng.integers(apex_frames[0], apex_frames[1] + 1))
            fade = onset if j == 0 else 1
            segments.append(Segment(img, eye[seq.label], seq.label, max(frames, fade + 1), fade))
    return segments


def ckplus_test_segments(seq: CkSequence, num_classes: int, neutral_index: int, neutral_frames: int = 12,
                         onset_frames: int = 4, apex_frames: int = 6) -> list[Segment]:
    """The fixed test clip of one CK+ sequence: neutral, a 4-frame onset, each apex frame for 6 frames."""
    eye = np.eye(num_classes, dtype=np.float32)
    segs = [Segment(seq.neutral, eye[neutral_index], neutral_index, neutral_frames)]
    for j, img in enumerate(seq.apex):
        fade = onset_frames if j == 0 else 1
        segs.append(Segment(img, eye[seq.label], seq.label, apex_frames + (fade if j == 0 else 0), fade))
    return segs
