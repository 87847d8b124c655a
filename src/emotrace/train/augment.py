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


def strong_augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The frame-model v2 recipe on images (N, 1, H, W) in [0, 1]: a wider affine (rotation +-15 deg, zoom 15%,
    i.e. a random resized crop), flip, brightness/contrast, gamma, blur, noise and random erasing (occlusion).
    What a face in a real video goes through, which FER's tidy crops never show the model."""
    n = x.shape[0]
    x = random_affine(x, generator, rotate_deg=15.0, shift=0.1, shear=0.1, zoom=0.15, brightness=0.25,
                      contrast=0.3)

    def u(lo: float, hi: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator) * (hi - lo) + lo).to(x.device)

    def coin(p: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator) < p).to(x.device)

    gamma = torch.exp(u(-0.4, 0.4))[:, None, None, None]
    x = x.clamp_min(1e-4) ** gamma
    blur = coin(0.2)
    if blur.any():
        k = torch.tensor([1.0, 2.0, 1.0], device=x.device, dtype=x.dtype)
        k = (k[:, None] * k[None, :] / 16).view(1, 1, 3, 3).repeat(x.shape[1], 1, 1, 1)
        soft = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k, groups=x.shape[1])
        x = torch.where(blur[:, None, None, None], soft, x)
    sigma = u(0.0, 0.04) * coin(0.3)
    noise = torch.randn(x.shape, generator=generator).to(x.device, x.dtype)
    x = x + sigma[:, None, None, None] * noise
    # Random erasing: one rectangle of 4-25% of the image per chosen face, filled with a random gray.
    h, w = x.shape[-2:]
    erase = coin(0.35)
    area = u(0.04, 0.25)
    ratio = torch.exp(u(-0.8, 0.8))
    eh = (torch.sqrt(area * ratio) * h).clamp(2, h - 1)
    ew = (torch.sqrt(area / ratio) * w).clamp(2, w - 1)
    y0 = u(0, 1) * (h - eh)
    x0 = u(0, 1) * (w - ew)
    ys = torch.arange(h, device=x.device, dtype=x.dtype)[None, :, None]
    xs = torch.arange(w, device=x.device, dtype=x.dtype)[None, None, :]
    inside = ((ys >= y0[:, None, None]) & (ys < (y0 + eh)[:, None, None]) & (xs >= x0[:, None, None])
              & (xs < (x0 + ew)[:, None, None]) & erase[:, None, None])
    fill = u(0, 1)[:, None, None, None].expand_as(x)
    x = torch.where(inside[:, None], fill, x)
    return x.clamp(0, 1)
