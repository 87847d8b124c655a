"""The architecture registry: each architecture module registers a builder under a name.

This module imports no architecture: `models.factory` does, so the modules that register here and the factory
that builds from here never import each other in a circle (timm's split of `_registry` and `_factory`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from torch import nn

from emotrace.errors import EmotraceError

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: make a builder available to `create_model` under `name`."""

    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _BUILDERS:
            raise ValueError(f"model {name!r} registered twice")
        _BUILDERS[name] = fn
        return fn

    return wrap


def registered() -> list[str]:
    """Names registered so far (the factory imports the built-in modules first)."""
    return sorted(_BUILDERS)


def builder(name: str) -> Callable[..., nn.Module]:
    """The builder registered as `name`, or a clear error listing the known names."""
    if name not in _BUILDERS:
        raise EmotraceError(f"unknown model {name!r} (known: {', '.join(sorted(_BUILDERS))})")
    return _BUILDERS[name]


def model_class(name: str) -> type | None:
    """The class the builder of `name` returns (its return annotation), so what the class states of itself
    (`time_aware`, `offline`, ...) is read without building a model; None where the annotation names no class."""
    try:
        ret = inspect.signature(builder(name), eval_str=True).return_annotation
    except NameError:
        return None
    return ret if isinstance(ret, type) else None
