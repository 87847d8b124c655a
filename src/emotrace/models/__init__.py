"""Models by name: `create_model("emotrace-cnn-m-ferplus", pretrained=True)` as timm's create_model does.

The names load on first use: importing a submodule (the manifest, the ONNX runtime path) must not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_model", "list_models", "load_pretrained", "register_model"]

if TYPE_CHECKING:
    from emotrace.models.factory import create_model, list_models, load_pretrained
    from emotrace.models.registry import register_model


def __getattr__(name: str) -> Any:
    if name in ("create_model", "list_models", "load_pretrained"):
        from emotrace.models import factory

        return getattr(factory, name)
    if name == "register_model":
        from emotrace.models import registry

        return registry.register_model
    raise AttributeError(name)
