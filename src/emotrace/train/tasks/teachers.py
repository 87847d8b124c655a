"""Trained frame models as one teacher: an ensemble whose members' logits are put in one balanced space first.

Members trained differently answer against different class priors. A mix run trained with logit adjustment or a
class-balanced sampler already gives balanced logits. A model trained on the natural class mix gives logits that
carry its training prior, so log(prior) is taken off them: FER+'s prior for a FER+-only frame model, the mix prior
for a mix run trained with `balance: none`. Shipped weights whose head was shifted at shipping
(`emotrace ship --prior-shift s`) have that shift taken off. The ensemble's answer is the mean of the members'
probabilities, optionally each also averaged over the mirrored face (flip test-time augmentation). A student then
adds its own training prior back (`shift`), so it learns in the space its own loss works in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from emotrace.errors import EmotraceError

# Fields of a mix config that decide its class prior: a member whose prior is the mix's must match the student's.
PRIOR_FIELDS = ("data", "extra", "exclude", "shares", "include_contempt")


def log_of(prior: np.ndarray) -> np.ndarray:
    return np.log(np.clip(np.asarray(prior, np.float64), 1e-4, None))


class Teachers:
    """Frozen frame models whose mean balanced probability is a soft target."""

    def __init__(self, models: Sequence[torch.nn.Module], offsets: np.ndarray, flip: bool = False,
                 refs: Sequence[str] = ()) -> None:
        self.models = [m.eval() for m in models]
        for m in self.models:
            m.requires_grad_(False)
        self.offsets = torch.as_tensor(np.asarray(offsets), dtype=torch.float32)
        self.flip = flip
        self.refs = list(refs)

    @classmethod
    def load(cls, refs: Sequence[str], device: torch.device, ferplus_prior: np.ndarray,
             mix_prior: np.ndarray | None = None, student_config: dict[str, Any] | None = None,
             flip: bool = False) -> Teachers:
        """Run folders, checkpoints or shipped names; `mix_prior` is the natural (not class-balanced) prior of the
        student's mix, needed only for members whose prior it is."""
        from emotrace.models.checkpoint import load_model
        from emotrace.models.manifest import manifest

        if not refs:
            raise EmotraceError("distillation needs teachers: a list of run folders or shipped model names")
        models, offsets = [], []
        for ref in refs:
            loaded = load_model(ref)
            if len(loaded.classes) != len(ferplus_prior):
                raise EmotraceError(f"teacher {ref} predicts {len(loaded.classes)} classes; the student "
                                    f"{len(ferplus_prior)} (set include_contempt to match)")
            shipped_shift = manifest()[ref].prior_shift if loaded.shipped else 0.0
            offsets.append(_offset(ref, loaded.task, loaded.config, shipped_shift, ferplus_prior, mix_prior,
                                   student_config or {}))
            models.append(loaded.model.to(device))
        return cls(models, np.stack(offsets), flip=flip, refs=refs)

    @torch.no_grad()
    def log_probs(self, x: torch.Tensor, temperature: float = 1.0, shift: torch.Tensor | None = None,
                  per_member: bool = False, batch: int = 512) -> torch.Tensor | list[torch.Tensor]:
        """Log of the ensemble's mean probability over (balanced logits + `shift`) / `temperature` (or each
        member's, with `per_member`)."""
        dev = x.device
        offsets = self.offsets.to(dev) + (shift.to(dev) if shift is not None else 0)
        members: list[list[torch.Tensor]] = [[] for _ in self.models]
        for i in range(0, len(x), batch):
            xb = x[i:i + batch]
            views = [xb, xb.flip(-1)] if self.flip else [xb]
            for k, model in enumerate(self.models):
                p = torch.stack([F.softmax((model(v)["logits"].float() + offsets[k]) / temperature, 1)
                                 for v in views]).mean(0)
                members[k].append(p)
        probs = [torch.cat(m) for m in members]
        if per_member:
            return [p.clamp_min(1e-12).log() for p in probs]
        return torch.stack(probs).mean(0).clamp_min(1e-12).log()


def _same_form(name: str, value: Any) -> Any:
    """A prior-deciding field in a comparable form: dataset folders resolved, so `../shared/data/x` and its
    absolute path are the same data."""
    if name == "data" and value:
        return str(Path(value).expanduser().resolve())
    if name == "extra" and value:
        return {k: str(Path(v).expanduser().resolve()) for k, v in dict(value).items()}
    if name in ("exclude",) and value is not None:
        return sorted(value)
    return value


def _offset(ref: str, task: str, cfg: dict[str, Any], shipped_shift: float, ferplus_prior: np.ndarray,
            mix_prior: np.ndarray | None, student: dict[str, Any]) -> np.ndarray:
    """What to add to a member's logits to put them in the balanced space."""
    if task in ("frame", "distill"):
        return -log_of(ferplus_prior)
    if task != "mix":
        raise EmotraceError(f"teacher {ref} is a {task} model, not a frame model")
    balanced = cfg.get("balance") in ("logit_adjust", "sampler")
    if balanced and not shipped_shift:
        return np.zeros(len(ferplus_prior))
    differs = [f for f in PRIOR_FIELDS if _same_form(f, cfg.get(f)) != _same_form(f, student.get(f))]
    if mix_prior is None or differs:
        raise EmotraceError(f"teacher {ref} answers against the prior of its own mix, which is not the student's"
                            + (f" ({', '.join(differs)} differ)" if differs else ""))
    return -(shipped_shift + (0.0 if balanced else 1.0)) * log_of(mix_prior)
