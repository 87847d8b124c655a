"""Augmentation: the seeds' transforms, one per image, and one per clip shared by all its frames."""

from __future__ import annotations

import torch

from emotrace.train.augment import random_affine


def _pattern(n: int) -> torch.Tensor:
    y, x = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    img = ((x * 4).floor() + (y * 4).floor()) % 2 * 0.6 + 0.2
    return img.expand(n, 1, 32, 32).clone()


def test_images_get_different_transforms_reproducibly():
    x = _pattern(4)
    a = random_affine(x, torch.Generator().manual_seed(0))
    b = random_affine(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert not torch.allclose(a[0], a[1])
    assert a.min() >= 0 and a.max() <= 1


def test_every_frame_of_a_clip_gets_the_same_transform():
    clip = _pattern(6).reshape(2, 3, 1, 32, 32)  # two clips of three identical frames
    out = random_affine(clip, torch.Generator().manual_seed(1))
    assert out.shape == clip.shape
    assert torch.allclose(out[0, 0], out[0, 1]) and torch.allclose(out[0, 0], out[0, 2])
    assert not torch.allclose(out[0, 0], out[1, 0])
