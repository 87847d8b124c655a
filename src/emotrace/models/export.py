"""ONNX export of any trained architecture: the input shape comes from the model's `input_spec`, the outputs are
the trainer's (`logits` and/or `va`), so a run folder exports with no per-model code."""

from __future__ import annotations

import warnings
from typing import Any

import torch


class _Outputs(torch.nn.Module):
    """Wraps a model so ONNX sees plain tensors: logits and/or valence/arousal, last step of sequences."""

    def __init__(self, model: torch.nn.Module, names: list[str]) -> None:
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        from emotrace.train.run import model_outputs

        out = model_outputs(self.model, x)
        return tuple(out[n] for n in self.names)


def example_input(spec: dict[str, Any], batch: int = 2) -> torch.Tensor:
    """A random input of the shape `spec` describes (frames default to 4 where the model takes any length)."""
    kind, size, ch, frames = spec["kind"], spec.get("size"), int(spec.get("channels") or 1), spec.get("frames") or 4
    if kind == "image":
        return torch.rand(batch, ch, size, size)
    if kind in ("clip", "sequence"):
        return torch.rand(batch, int(frames), ch, size, size)
    if kind == "features":
        return torch.randn(batch, int(frames), ch)
    raise ValueError(f"unknown input kind {kind!r}")


def export_any(model: torch.nn.Module, spec: dict[str, Any], path: str) -> list[str]:
    """Export with a dynamic batch axis (and time axis for sequences); returns the output names."""
    from emotrace.train.run import model_outputs

    model.eval()
    x = example_input(spec)
    with torch.no_grad():
        names = sorted(model_outputs(model, x))
    axes: dict[str, dict[int, str]] = {"input": {0: "n"}, **{n: {0: "n"} for n in names}}
    if spec["kind"] in ("sequence", "features"):
        axes["input"][1] = "t"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Outputs(model, names).eval(), (x,), path, input_names=["input"], output_names=names,
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    return names
