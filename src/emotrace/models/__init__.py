"""Models by name: `create_model("emotrace-cnn-m-ferplus", pretrained=True)` as timm's create_model does."""

from emotrace.models.factory import create_model, list_models, load_pretrained
from emotrace.models.registry import register_model

__all__ = ["create_model", "list_models", "load_pretrained", "register_model"]
