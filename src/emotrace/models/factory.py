"""`create_model(name, pretrained=)`: architectures by name, and shipped weights by name (as timm's create_model).

Importing the architecture modules registers them; it happens on first use so `import emotrace` stays light.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from emotrace.models.manifest import verified_file, weight_record
from emotrace.models.registry import builder, model_class, registered


def _ensure_builtin() -> None:
    from emotrace.models.frame import cnn, resnet  # noqa: F401
    from emotrace.models.seeds import seed1_conv3d_lstm, seed2_cnn_lstm, seed3_cnn_lstm, seed4_cnn_rnn  # noqa: F401
    from emotrace.models.temporal import lookahead, rnn, timed  # noqa: F401


def list_models() -> list[str]:
    """Every registered architecture name."""
    _ensure_builtin()
    return registered()


def architecture_class(name: str) -> type | None:
    """The class architecture `name` builds (`registry.model_class`), the built-in architectures registered first."""
    _ensure_builtin()
    return model_class(name)


def create_model(name: str, pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """Build architecture `name`; with `pretrained`, `name` is a shipped weight name and its weights are loaded."""
    _ensure_builtin()
    if pretrained:
        rec = weight_record(name)
        model = builder(rec.arch)(**{**rec.arch_kwargs, **kwargs})
        model.load_state_dict(torch.load(verified_file(name), map_location="cpu", weights_only=True))
        model.eval()
        return model
    return builder(name)(**kwargs)


def load_pretrained(name: str) -> nn.Module:
    """Shorthand for `create_model(name, pretrained=True)`."""
    return create_model(name, pretrained=True)
