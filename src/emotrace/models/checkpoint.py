"""The one checkpoint format, and loading any model reference: a run folder (`models/run_folder.py` names its
files), a checkpoint file, or shipped weights by name.

A model checkpoint is a dict with `format`, `task`, `arch`, `arch_kwargs`, `contract`, `config`, `epoch` and
`state_dict`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from emotrace.errors import EmotraceError
from emotrace.models.contract import ModelContract
from emotrace.models.factory import create_model
from emotrace.models.manifest import manifest
from emotrace.models.run_folder import RunFolder

FORMAT = "emotrace-run/1"


@dataclass
class LoadedModel:
    """A model ready for inference with everything known about it."""

    model: torch.nn.Module
    contract: ModelContract
    arch: str
    arch_kwargs: dict[str, Any]
    task: str
    config: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # shipped name, or checkpoint path
    ref: str = ""  # what the caller named (shipped name, run folder or checkpoint): what the pipeline is given
    shipped: bool = False
    frame_model: str = ""  # temporal models: the frame weights they read

    @property
    def classes(self) -> tuple[str, ...]:
        return self.contract.classes


def save_atomic(obj: Any, path: Path) -> None:
    """torch.save through a unique temporary name, so a crash never leaves a half-written checkpoint."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def model_checkpoint(model: torch.nn.Module, task: str, arch: str, arch_kwargs: dict[str, Any],
                     contract: ModelContract, config: dict[str, Any], epoch: int) -> dict[str, Any]:
    """The dict a model checkpoint holds."""
    return {"format": FORMAT, "task": task, "arch": arch, "arch_kwargs": dict(arch_kwargs),
            "contract": contract.to_dict(), "config": config, "epoch": epoch,
            "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}


def load_model(ref: str | Path) -> LoadedModel:
    """`ref`: shipped weights name, run folder, or checkpoint file written by `emotrace train`."""
    text = str(ref)
    if text in manifest():
        rec = manifest()[text]
        return LoadedModel(create_model(text, pretrained=True), rec.contract, rec.arch, rec.arch_kwargs, rec.task,
                           rec.train_config, text, ref=text, shipped=True, frame_model=rec.frame_model)
    path = Path(text).expanduser()
    if not path.exists():
        shipped = ", ".join(sorted(manifest())) or "none"
        raise EmotraceError(f"no trained model at {text} (a run folder, a .pt checkpoint, or shipped weights: "
                            f"{shipped})")
    ck_path = RunFolder(path).model_checkpoint() if path.is_dir() else path
    try:
        ck = torch.load(ck_path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise EmotraceError(f"{ck_path} is not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise EmotraceError(f"{ck_path} is not a model checkpoint written by `emotrace train`")
    model = create_model(ck["arch"], **ck["arch_kwargs"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    contract = ModelContract.from_dict(ck["contract"])
    cfg = ck.get("config", {})
    return LoadedModel(model, contract, ck["arch"], ck["arch_kwargs"], ck["task"], cfg, str(ck_path), ref=text,
                       frame_model=str(cfg.get("frame_model", "")) if ck["task"] == "temporal" else "")
