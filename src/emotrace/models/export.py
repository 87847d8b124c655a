"""ONNX export of any trained model, and the one checked export (`export_checked`) that `emotrace export` and
`emotrace ship` use: a frame model under its output names for the runtime, a temporal model's per-frame step, or
any other architecture with the input shape of its `input_spec` and the trainer's outputs (`logits` and/or `va`),
so a run folder exports with no per-model code. A file is written only when it matches PyTorch."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from emotrace.errors import EmotraceError
from emotrace.models.outputs import model_outputs

if TYPE_CHECKING:
    from emotrace.models.checkpoint import LoadedModel

PARITY_TOLERANCE = 1e-3  # the largest |ONNX - PyTorch| an export may show on a random input


class _Outputs(torch.nn.Module):
    """Wraps a model so ONNX sees plain tensors: logits and/or valence/arousal, last step of sequences."""

    def __init__(self, model: torch.nn.Module, names: list[str]) -> None:
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
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


def export_onnx(model: torch.nn.Module, path: str, input_size: int = 48) -> None:
    """Export a frame model with a dynamic batch axis; outputs keep the names of the model's output dict
    (`logits`, `embedding`, and `logits_fer2013` / `valence_arousal` where the model has those heads)."""
    model.eval()
    x = torch.rand(2, 1, input_size, input_size)
    with torch.no_grad():
        names = list(model(x).keys())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), path, input_names=["crops"], output_names=names,
                          dynamic_axes={"crops": {0: "n"}, **{k: {0: "n"} for k in names}},
                          opset_version=17, dynamo=False)


def export_checked(loaded: LoadedModel, path: str | Path) -> float:
    """Export `loaded` to `path` the way the pipeline or ONNX Runtime reads it, check it against PyTorch, and
    write it only if it matches (else a clear error and no file); returns the largest difference."""
    model, contract = loaded.model.eval(), loaded.contract
    temporal = loaded.task == "temporal"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        if temporal:
            export_temporal_onnx(model, str(tmp))
        elif "embedding" in contract.outputs and contract.kind == "image":
            export_onnx(model, str(tmp), input_size=int(contract.size or 48))
        else:
            export_any(model, contract.spec, str(tmp))
        gap = onnx_parity(model, str(tmp), contract.spec, temporal=temporal)
        if gap > PARITY_TOLERANCE:
            raise EmotraceError(f"the ONNX export of {loaded.ref} differs from PyTorch by {gap:.2e}; not written")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return gap


def export_any(model: torch.nn.Module, spec: dict[str, Any], path: str) -> list[str]:
    """Export with a dynamic batch axis (and time axis for sequences); returns the output names."""
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


class _TemporalStep(torch.nn.Module):
    """One frame for a batch of tracks, state in and out as plain tensors (GRU: h; LSTM: h and c)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model
        self.lstm = isinstance(model.rnn, torch.nn.LSTM)

    def forward(self, embedding: torch.Tensor, h: torch.Tensor, *c: torch.Tensor) -> tuple[torch.Tensor, ...]:
        state = (h, c[0]) if self.lstm else h
        out, new = self.model(embedding[:, None, :], state)
        heads = [out["logits"][:, 0]] + ([out["valence_arousal"][:, 0]] if "valence_arousal" in out else [])
        states = list(new) if self.lstm else [new]
        return tuple(heads + states)


class _TimedStep(torch.nn.Module):
    """One frame of a time-aware model: embedding (N, D), dt (N,) seconds, state (N, S) -> heads and new state."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, embedding: torch.Tensor, dt: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out, new = self.model.step(embedding, dt, state)
        return tuple([out["logits"]] + ([out["valence_arousal"]] if "valence_arousal" in out else []) + [new])


class _WindowStep(torch.nn.Module):
    """One frame of a look-ahead model: the forward step of frame k (embedding, dt, state) and its output from the
    window of frames k.. (window, ahead seconds, valid) -> heads of frame k and the new forward state."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, embedding: torch.Tensor, dt: torch.Tensor, state: torch.Tensor, window: torch.Tensor,
                ahead: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, ...]:
        new = self.model.fwd._advance(embedding, dt, state)
        out = self.model.window_step(new, window, ahead, valid.to(torch.bool))
        return tuple([out["logits"]] + ([out["valence_arousal"]] if "valence_arousal" in out else []) + [new])


def _window_example(model: torch.nn.Module, n: int) -> tuple[torch.Tensor, ...]:
    x, dt, state = _timed_example(model, n)
    w = model.window
    window = torch.randn(n, w, x.shape[1])
    ahead = torch.arange(w, dtype=torch.float32)[None].expand(n, w) / 30.0
    valid = (ahead <= model.lookahead_s).float()
    valid[0, 3:] = 0  # a window cut short (track end or gap)
    return x, dt, state, window, ahead.contiguous(), valid


def _timed_example(model: torch.nn.Module, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x = torch.randn(n, int(model.input_spec["channels"]))
    dt = torch.tensor([1 / 30, 1 / 15, 2.5][:n] + [1 / 60] * max(0, n - 3))  # a normal step, a drop, a long gap
    return x, dt, torch.randn(n, model.state_size) * 0.5


def export_temporal_onnx(model: torch.nn.Module, path: str) -> list[str]:
    """Export a temporal model's per-frame step: inputs `embedding` (N, D) and the state `h` (and `c` for an
    LSTM) of shape (layers, N, hidden); outputs `logits`, `valence_arousal` where present, and the new state.
    A time-aware model (`models/temporal/timed.py`) takes `embedding`, `dt` (N,) and `state` (N, S) and gives the
    heads and `state_out`; a look-ahead model (`models/temporal/lookahead.py`) also takes its frame's window
    (`window` (N, W, D), `ahead` (N, W) seconds, `valid` (N, W) as 0/1)."""
    model.eval()
    offline = getattr(model, "offline", False)
    if offline or getattr(model, "time_aware", False):
        heads = ["logits"] + (["valence_arousal"] if getattr(model, "va_head", None) is not None else [])
        names = heads + ["state_out"]
        inputs = ["embedding", "dt", "state"] + (["window", "ahead", "valid"] if offline else [])
        step, example = ((_WindowStep(model), _window_example(model, 2)) if offline
                         else (_TimedStep(model), _timed_example(model, 2)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(step, example, path, input_names=inputs, output_names=names,
                              dynamic_axes={k: {0: "n"} for k in inputs + names}, opset_version=17, dynamo=False)
        return names
    rnn = model.rnn
    lstm = isinstance(rnn, torch.nn.LSTM)
    x = torch.rand(2, rnn.input_size)
    h = torch.zeros(rnn.num_layers, 2, rnn.hidden_size)
    args = (x, h, h.clone()) if lstm else (x, h)
    inputs = ["embedding", "h"] + (["c"] if lstm else [])
    heads = ["logits"] + (["valence_arousal"] if getattr(model, "va_head", None) is not None else [])
    outputs = heads + (["h_out", "c_out"] if lstm else ["h_out"])
    axes = {"embedding": {0: "n"}, "logits": {0: "n"}, "valence_arousal": {0: "n"}}
    axes.update({k: {1: "n"} for k in ("h", "c", "h_out", "c_out")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_TemporalStep(model), args, path, input_names=inputs, output_names=outputs,
                          dynamic_axes={k: v for k, v in axes.items() if k in inputs + outputs},
                          opset_version=17, dynamo=False)
    return outputs


def onnx_parity(model: torch.nn.Module, path: str, spec: dict[str, Any], temporal: bool = False) -> float:
    """Largest absolute difference between the ONNX file and the PyTorch model on a random input (every output)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    model.eval()
    with torch.no_grad():
        if temporal and getattr(model, "offline", False):
            args = _window_example(model, 3)
            feeds = {k: a.numpy() for k, a in zip(["embedding", "dt", "state", "window", "ahead", "valid"], args,
                                                  strict=True)}
            want = [w.numpy() for w in _WindowStep(model)(*args)]
        elif temporal and getattr(model, "time_aware", False):
            x, dt, state = _timed_example(model, 3)
            feeds = {"embedding": x.numpy(), "dt": dt.numpy(), "state": state.numpy()}
            want = [w.numpy() for w in _TimedStep(model)(x, dt, state)]
        elif temporal:
            rnn = model.rnn
            x = torch.randn(3, rnn.input_size)
            h = torch.zeros(rnn.num_layers, 3, rnn.hidden_size)
            feeds = {"embedding": x.numpy(), "h": h.numpy()}
            state = h
            if isinstance(rnn, torch.nn.LSTM):
                feeds["c"] = h.numpy()
                state = (h, h.clone())
            ref, _ = model(x[:, None, :], state)
            want = [ref["logits"][:, 0].numpy()]
        else:
            x = example_input(spec, batch=3)
            feeds = {sess.get_inputs()[0].name: x.numpy()}
            ref = model(x) if isinstance(model(x), dict) else model_outputs(model, x)
            want = [ref[o.name].numpy() for o in sess.get_outputs()]
    got = sess.run(None, feeds)
    return float(max(np.abs(g - w).max() for g, w in zip(got, want, strict=False)))
