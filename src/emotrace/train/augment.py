"""Batched geometric and photometric augmentation on tensors (the seeds' set: rotation +-10 deg, shift 10%,
shear 10%, zoom 10%, horizontal flip, brightness). Batched affine grids keep it cheap on a CPU.

Clips (N, T, C, H, W) get one transform per clip, the same for every frame, so augmentation never invents motion."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(x: torch.Tensor, generator: torch.Generator, rotate_deg: float = 10.0, shift: float = 0.1,
                  shear: float = 0.1, zoom: float = 0.1, flip: bool = True, brightness: float = 0.2,
                  contrast: float = 0.2) -> torch.Tensor:
    """Apply one random transform per image of x (N, C, H, W), or per clip of x (N, T, C, H, W), values in [0, 1]."""
    if x.dim() == 5:
        n, t = x.shape[:2]
        flat = x.reshape(n * t, *x.shape[2:])
        params = _params(n, generator, rotate_deg, shift, shear, zoom, flip, brightness, contrast)
        out = _apply(flat, *(v.repeat_interleave(t, 0) for v in params))
        return out.reshape(x.shape)
    return _apply(x, *_params(x.shape[0], generator, rotate_deg, shift, shear, zoom, flip, brightness, contrast))


def _params(n: int, generator: torch.Generator, rotate_deg: float, shift: float, shear: float, zoom: float,
            flip: bool, brightness: float, contrast: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random affine matrices (n, 2, 3), brightness offsets and contrast factors, one set per item."""

    def u(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=generator) * (hi - lo) + lo

    ang = u(-rotate_deg, rotate_deg) * math.pi / 180
    scale = u(1 - zoom, 1 + zoom)
    sh = u(-shear, shear)
    tx, ty = u(-shift, shift) * 2, u(-shift, shift) * 2
    cos, sin = torch.cos(ang), torch.sin(ang)
    rows = [torch.stack([cos, -sin + sh * cos], 1), torch.stack([sin, cos + sh * sin], 1)]
    a = torch.stack(rows, 1) / scale[:, None, None]
    if flip:
        sign = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
        a[:, :, 0] *= sign[:, None]
    theta = torch.cat([a, torch.stack([tx, ty], 1)[:, :, None]], 2)
    return theta, u(-brightness, brightness), u(1 - contrast, 1 + contrast)


def _apply(x: torch.Tensor, theta: torch.Tensor, brightness: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    # Parameters are drawn on the CPU generator (the same draws on any device), then used where the images are.
    theta, brightness, contrast = (v.to(x.device, x.dtype) for v in (theta, brightness, contrast))
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    b = brightness[:, None, None, None]
    c = contrast[:, None, None, None]
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    return ((out - mean) * c + mean + b).clamp(0, 1)
