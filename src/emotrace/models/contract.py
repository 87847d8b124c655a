"""What a model takes and gives, stated once: the pipeline, the exporter, the evaluator and the trainer read this
instead of guessing from layer names.

Every architecture declares `input_spec` (kind, size, channels, frames); a trained model's contract adds the class
names, the output names and the embedding width, and is saved with every checkpoint and shipped record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from emotrace.errors import EmotraceError

INPUT_KINDS = ("image", "clip", "sequence", "features")
# Pixels enter every model as uint8 / 255 in [0, 1]; any further normalisation is inside the model, so torch and
# ONNX runtimes agree without a per-model preprocessing step.
PIXEL_SCALING = "uint8 / 255 -> [0, 1]; further normalisation is inside the model"


@dataclass(frozen=True)
class ModelContract:
    """Input and output of one trained model."""

    kind: str  # image | clip | sequence | features
    size: int | None  # square side of pixel inputs; None for features
    channels: int  # 1 gray, 3 BGR, or the feature width for `features`
    frames: int | None  # fixed clip length, or None where any length works
    classes: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ("logits",)
    embedding_dim: int | None = None
    scaling: str = PIXEL_SCALING
    extra: dict[str, Any] = field(default_factory=dict)
    # what the architecture's class states (`time_aware`: each step told the seconds since the last; `offline`: each
    # output reads a look-ahead window), carried so the pipeline knows a shipped model's kind without torch
    time_aware: bool = False
    offline: bool = False

    def __post_init__(self) -> None:
        if self.kind not in INPUT_KINDS:
            raise EmotraceError(f"model contract: input kind must be one of {', '.join(INPUT_KINDS)}, "
                                f"not {self.kind!r}")
        if self.kind != "features" and not self.size:
            raise EmotraceError(f"model contract: a {self.kind} model needs an input size")

    @property
    def spec(self) -> dict[str, Any]:
        """The `input_spec` dict the data pipeline reads."""
        return {"kind": self.kind, "size": self.size, "channels": self.channels, "frames": self.frames}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["classes"], d["outputs"] = list(self.classes), list(self.outputs)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelContract:
        known = {k: d[k] for k in ("kind", "size", "channels", "frames", "embedding_dim", "scaling", "extra",
                                   "time_aware", "offline") if k in d}
        return cls(classes=tuple(d.get("classes", ())), outputs=tuple(d.get("outputs", ("logits",))), **known)


def input_spec_of(model: Any) -> dict[str, Any]:
    """The architecture's declared input; every registered model declares one."""
    spec = getattr(model, "input_spec", None)
    if not spec:
        raise EmotraceError(f"{type(model).__name__} declares no input_spec (kind, size, channels, frames)")
    return dict(spec)


def contract_of(model: Any, classes: tuple[str, ...] | list[str], outputs: tuple[str, ...] | list[str],
                **extra: Any) -> ModelContract:
    """A trained model's contract from its declared input, its class names and the outputs it produced."""
    spec = input_spec_of(model)
    return ModelContract(kind=spec["kind"], size=spec.get("size"), channels=int(spec.get("channels") or 1),
                         frames=spec.get("frames"), classes=tuple(classes), outputs=tuple(outputs),
                         embedding_dim=getattr(model, "embedding_dim", None), extra=extra,
                         time_aware=bool(getattr(model, "time_aware", False)),
                         offline=bool(getattr(model, "offline", False)))
