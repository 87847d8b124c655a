"""Every model's outputs under the same names, and batched prediction: shared by training and evaluation, so
neither reaches into the other for them.

Standard names: `logits` (N, C) and/or `va` (N, 2); sequence models report their last step. Frame CNNs return a
dict with more heads (`embedding`, `logits_fer2013`, `valence_arousal`), which `predict_heads` keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F


def output_kind(model: torch.nn.Module) -> str:
    """`classes`, `va` or `both`: what the model predicts (seed models declare `output`)."""
    out = getattr(model, "output", None)
    if out:
        return str(out)
    return "both" if getattr(model, "va_head", None) is not None else "classes"


def model_outputs(model: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Any architecture's output as {'logits': (N, C)} and/or {'va': (N, 2)}; sequence outputs -> last step."""
    out = model(x)
    if isinstance(out, tuple):
        out = out[0]
    if isinstance(out, dict):
        res = {}
        if "logits" in out:
            res["logits"] = out["logits"][:, -1] if out["logits"].dim() == 3 else out["logits"]
        if "valence_arousal" in out:
            v = out["valence_arousal"]
            res["va"] = v[:, -1] if v.dim() == 3 else v
        return res
    return {"va": out} if output_kind(model) == "va" else {"logits": out}


@torch.no_grad()
def predict(model: torch.nn.Module, n: int, batch_x: Callable[[np.ndarray], torch.Tensor],
            device: torch.device | str = "cpu", batch: int = 256) -> dict[str, np.ndarray]:
    """`probs` and/or `va` for rows 0..n-1, fetched `batch` at a time by `batch_x(indices)`."""
    model.eval()
    probs, vas = [], []
    for i in range(0, n, batch):
        out = model_outputs(model, batch_x(np.arange(i, min(n, i + batch))).to(device))
        if "logits" in out:
            probs.append(torch.softmax(out["logits"].float(), 1).cpu().numpy())
        if "va" in out:
            vas.append(out["va"].float().cpu().numpy())
    res = {}
    if probs:
        res["probs"] = np.concatenate(probs)
    if vas:
        res["va"] = np.concatenate(vas)
    return res


@torch.no_grad()
def predict_heads(model: torch.nn.Module, images: np.ndarray, batch: int = 512,
                  device: torch.device | str = "cpu", logits: bool = False) -> dict[str, np.ndarray]:
    """Every head of a frame CNN for uint8 gray images (N, S, S): `probs`, and where the model has them
    `probs_fer2013` and `valence_arousal`; with `logits`, the main head's raw `logits` too (calibration)."""
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i:i + batch]).to(device).float().div_(255)[:, None]
        out = model(x)
        parts.setdefault("probs", []).append(F.softmax(out["logits"].float(), 1).cpu().numpy())
        if logits:
            parts.setdefault("logits", []).append(out["logits"].float().cpu().numpy())
        if "logits_fer2013" in out:
            parts.setdefault("probs_fer2013", []).append(F.softmax(out["logits_fer2013"].float(), 1).cpu().numpy())
        if "valence_arousal" in out:
            parts.setdefault("valence_arousal", []).append(out["valence_arousal"].float().cpu().numpy())
    if not parts:
        return {"probs": np.zeros((0, 0), np.float32)}
    return {k: np.concatenate(v) for k, v in parts.items()}


def embedder(frame_model: torch.nn.Module, batch: int = 256) -> Callable[[np.ndarray], np.ndarray]:
    """uint8 frames (T, C, S, S) -> embeddings (T, D) from a frame model (two-stage training, stage 2 input)."""

    @torch.no_grad()
    def run(frames: np.ndarray) -> np.ndarray:
        frame_model.eval()
        outs = []
        for i in range(0, len(frames), batch):
            x = torch.from_numpy(frames[i:i + batch]).float().div_(255)
            if isinstance(getattr(frame_model, "features", None), torch.nn.Module):  # emotrace frame CNNs
                emb = frame_model(x)["embedding"]
            else:  # seed models: features() gives the embedding
                emb = frame_model(x, return_features=True)[1]
            outs.append(emb.float().numpy())
        return np.concatenate(outs)

    return run


def frame_features(spec: dict[str, Any], features_from: str) -> tuple[dict[str, Any],
                                                                      Callable[[np.ndarray], np.ndarray] | None]:
    """A two-stage model's input: for a `features` spec, the spec completed with its frame model's input size and
    channels, and that model's embedder; any other spec as it is, with no embedder."""
    if spec["kind"] != "features" or not features_from:
        return spec, None
    from emotrace.models.checkpoint import load_model
    from emotrace.models.contract import input_spec_of

    frame = load_model(features_from)
    fspec = input_spec_of(frame.model)
    return {**spec, "size": fspec["size"], "frame_channels": fspec["channels"]}, embedder(frame.model)
