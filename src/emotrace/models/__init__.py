"""Models by name: `create_model("emotrace-cnn-s", pretrained=True)` as timm's create_model does."""

from emotrace.models.registry import create_model, list_models, load_pretrained, register_model

__all__ = ["create_model", "list_models", "load_pretrained", "register_model"]
