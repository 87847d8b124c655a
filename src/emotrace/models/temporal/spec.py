"""`TemporalSpec`: the `temporal` option's grammar (auto | ema[:tau] | hmm[:rate] | shipped name | run folder, each
optionally +lookahead), parsed in one place. The config check and `create_temporal` both call `TemporalSpec.parse`,
so they accept and refuse the same specs with the same one-line messages. Light: reads the manifest, imports no
model code (the CLI and the ONNX path load it)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from emotrace.errors import EmotraceError

LOOKAHEAD_SUFFIX = "+lookahead"
KINDS = ("auto", "ema", "hmm", "model")


def temporal_choices() -> list[str]:
    """Every value `temporal` accepts, for messages."""
    return ["auto", "ema", "ema:<seconds>", "hmm", "hmm:<switches per second>", *_shipped_temporal(),
            "a temporal training run folder", "any of these +lookahead"]


def _shipped_temporal() -> list[str]:
    from emotrace.models import manifest as man  # the module, so a test's stand-in manifest is seen

    return sorted(k for k, v in man.manifest().items() if v.role == "temporal")


def _refused(text: object) -> EmotraceError:
    return EmotraceError(f"temporal must be one of {', '.join(temporal_choices())} (got {text!r})")


@dataclass(frozen=True)
class TemporalSpec:
    """One parsed `temporal` value: `kind` auto | ema | hmm | model; `value` the EMA time constant (s) or the HMM
    switch rate (/s) where given; `ref` a shipped temporal model's name or a run folder (kind model); `lookahead`
    whether fixed-lag HMM decoding follows the stage."""

    kind: str
    value: float | None = None
    ref: str = ""
    lookahead: bool = False

    @classmethod
    def parse(cls, text: object) -> TemporalSpec:
        """The spec `text` names, or EmotraceError (one line, what `temporal` accepts). A model reference must be a
        shipped temporal model or an existing path; what a run folder holds is checked when it is loaded."""
        if not isinstance(text, str) or not text:
            raise _refused(text)
        lookahead = text.endswith(LOOKAHEAD_SUFFIX)
        base = (text[:-len(LOOKAHEAD_SUFFIX)] or "auto") if lookahead else text
        if base in ("auto", "ema", "hmm"):
            return cls(base, lookahead=lookahead)
        if base.startswith(("ema:", "hmm:")):
            kind, raw = base.split(":", 1)
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not (0 < value < math.inf):
                what = ("the time constant must be a number of seconds above 0 (ema:0.4)" if kind == "ema"
                        else "the switch rate must be a number of label switches per second above 0 (hmm:1.0)")
                raise EmotraceError(f"temporal {text!r}: {what}")
            return cls(kind, value=value, lookahead=lookahead)
        if Path(base).expanduser().exists():  # a training run folder or checkpoint, used before (or without) shipping
            return cls("model", ref=base, lookahead=lookahead)
        from emotrace.models import manifest as man

        rec = man.manifest().get(base)
        if rec is None:
            raise _refused(text)
        if rec.role != "temporal":
            raise EmotraceError(f"temporal {base!r} is not a temporal model (its role is {rec.role!r})")
        return cls("model", ref=base, lookahead=lookahead)
