"""The model registry: architectures register a builder under a name; shipped weights are looked up by name.

Shipped weights live in `emotrace/models/weights/` next to `manifest.json`, which records for each file its sha256,
the architecture and keyword arguments that built it, the label set and input it expects, and how it was trained.
Nothing is ever downloaded: a missing or altered file is an error, not a fetch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from emotrace.errors import EmotraceError
from emotrace.hashing import file_sha256

WEIGHTS_DIR = Path(__file__).parent / "weights"
_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: make a builder available to `create_model` under `name`."""

    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _BUILDERS:
            raise ValueError(f"model {name!r} registered twice")
        _BUILDERS[name] = fn
        return fn

    return wrap


def _ensure_builtin() -> None:
    # Importing the architecture modules registers them; done lazily so `import emotrace` stays light.
    from emotrace.models.frame import cnn  # noqa: F401
    from emotrace.models.seeds import seed1_conv3d_lstm, seed2_cnn_lstm, seed3_cnn_lstm, seed4_cnn_rnn  # noqa: F401
    from emotrace.models.temporal import rnn  # noqa: F401


def list_models() -> list[str]:
    """Every registered architecture name."""
    _ensure_builtin()
    return sorted(_BUILDERS)


@lru_cache(maxsize=1)
def manifest() -> dict[str, dict[str, Any]]:
    """The shipped-weights manifest: weight name -> record."""
    path = WEIGHTS_DIR / "manifest.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


sha256 = file_sha256  # the name ship.py and older callers use


def weight_record(name: str) -> dict[str, Any]:
    """The manifest record of shipped weights `name`, or a clear error listing what is shipped."""
    rec = manifest().get(name)
    if rec is None:
        shipped = ", ".join(sorted(manifest())) or "none"
        raise EmotraceError(f"no shipped weights named {name!r} (shipped: {shipped})")
    return rec


def verified_file(name: str, key: str = "file") -> Path:
    """Path of a shipped file after checking its sha256 against the manifest."""
    rec = weight_record(name)
    path = WEIGHTS_DIR / rec[key]
    if not path.is_file():
        raise EmotraceError(f"weights file missing from the package: {path}")
    digest = sha256(path)
    if digest != rec[key.replace("file", "sha256")]:
        raise EmotraceError(f"weights file {path.name} fails its checksum (package damaged?)")
    return path


def create_model(name: str, pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """Build architecture `name`; with `pretrained`, `name` is a shipped weight name and its weights are loaded."""
    _ensure_builtin()
    if pretrained:
        rec = weight_record(name)
        arch_kwargs = {**rec.get("arch_kwargs", {}), **kwargs}
        model = create_model(rec["arch"], **arch_kwargs)
        state = torch.load(verified_file(name), map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        model.eval()
        return model
    if name not in _BUILDERS:
        raise EmotraceError(f"unknown model {name!r} (known: {', '.join(sorted(_BUILDERS))})")
    return _BUILDERS[name](**kwargs)


def load_pretrained(name: str) -> nn.Module:
    """Shorthand for `create_model(name, pretrained=True)`."""
    return create_model(name, pretrained=True)
