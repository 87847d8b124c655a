"""Which architectures step on time and which look ahead: the model classes state it once (`time_aware`, `offline`
class attributes); these read it by architecture name without building a model. Trained models carry the same
facts in their contract (`contract_of`), which is what the pipeline reads for shipped weights without torch."""

from __future__ import annotations


def _stated(arch: str, fact: str) -> bool:
    from emotrace.models.factory import architecture_class  # imports the architectures, so torch: on first call

    return bool(getattr(architecture_class(arch), fact, False))


def is_time_aware(arch: str) -> bool:
    """Whether architecture `arch` is told the seconds since a track's previous frame at every step (trained on
    resampled frame rates)."""
    return _stated(arch, "time_aware")


def is_offline(arch: str) -> bool:
    """Whether architecture `arch`'s outputs read a look-ahead window of later frames (for files, not live)."""
    return _stated(arch, "offline")
