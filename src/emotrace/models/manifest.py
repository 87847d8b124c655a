"""The shipped-weights manifest as typed records, validated when read.

Shipped weights live in `emotrace/models/weights/` beside `manifest.json`, which records for each file its sha256,
the architecture that built it, its contract (input, classes, outputs), how it was trained and what it scores.
Nothing is ever downloaded: a missing or altered file is an error, not a fetch.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from emotrace.errors import EmotraceError
from emotrace.hashing import file_sha256
from emotrace.models.contract import ModelContract

WEIGHTS_DIR = Path(__file__).parent / "weights"
MANIFEST_PATH = WEIGHTS_DIR / "manifest.json"
ROLES = ("frame", "temporal")


@dataclass
class WeightRecord:
    """One shipped model: files with checksums, contract, provenance and measured metrics."""

    name: str
    role: str  # frame | temporal
    arch: str
    arch_kwargs: dict[str, Any]
    contract: ModelContract
    file: str
    sha256: str
    default: bool = False
    onnx_file: str = ""
    onnx_sha256: str = ""
    size_bytes: int = 0
    frame_model: str = ""  # temporal models: the frame weights whose embeddings they read
    task: str = ""  # the training task that made it
    description: str = ""
    trained_with: str = ""  # the command
    trained_on: str = ""  # where and for how long
    weights_from: str = ""  # which checkpoint of the run
    commit: str = ""
    train_config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    confusions: dict[str, list[list[int]]] = field(default_factory=dict)
    data_licence: str = ""
    temperature: float = 1.0  # softmax temperature fitted on held-out data (calibration); 1 = raw logits
    prior_shift: float = 0.0  # s * log(training prior) added to the main head's bias at shipping (`--prior-shift`)

    @property
    def classes(self) -> list[str]:
        return list(self.contract.classes)

    @property
    def input_size(self) -> int:
        return int(self.contract.size or 0)

    @property
    def embedding_dim(self) -> int:
        return int(self.contract.embedding_dim or 0)

    @property
    def valence_arousal(self) -> bool:
        return "valence_arousal" in self.contract.outputs

    @property
    def fer2013_head(self) -> bool:
        return "logits_fer2013" in self.contract.outputs

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["contract"] = self.contract.to_dict()
        d.pop("name")
        return d

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any]) -> WeightRecord:
        """Validate one manifest entry: required fields present, known fields only, a known role."""
        known = {f.name for f in fields(cls)} - {"name"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise EmotraceError(f"manifest entry {name}: unknown fields {', '.join(unknown)}")
        missing = [k for k in ("role", "arch", "arch_kwargs", "contract", "file", "sha256") if k not in d]
        if missing:
            raise EmotraceError(f"manifest entry {name}: missing {', '.join(missing)}")
        if d["role"] not in ROLES:
            raise EmotraceError(f"manifest entry {name}: role must be {' or '.join(ROLES)}, not {d['role']!r}")
        if d["role"] == "temporal" and not d.get("frame_model"):
            raise EmotraceError(f"manifest entry {name}: a temporal model must name its frame_model")
        return cls(name=name, **{**d, "contract": ModelContract.from_dict(d["contract"])})


@lru_cache(maxsize=1)
def manifest() -> dict[str, WeightRecord]:
    """Every shipped model by name."""
    if not MANIFEST_PATH.is_file():
        return {}
    raw = json.loads(MANIFEST_PATH.read_text())
    return {name: WeightRecord.from_dict(name, rec) for name, rec in raw.items()}


def save_record(rec: WeightRecord) -> None:
    """Add or replace one record (atomically); a new default of a role takes the flag from the old one."""
    raw = json.loads(MANIFEST_PATH.read_text()) if MANIFEST_PATH.is_file() else {}
    if rec.default:
        for other in raw.values():
            if other.get("role") == rec.role:
                other["default"] = False
    raw[rec.name] = rec.to_dict()
    tmp = MANIFEST_PATH.with_name(f".manifest.json.{os.getpid()}.part")
    tmp.write_text(json.dumps(raw, indent=2, default=float) + "\n")
    os.replace(tmp, MANIFEST_PATH)
    manifest.cache_clear()


def weight_record(name: str) -> WeightRecord:
    """The record of shipped weights `name`, or a clear error listing what is shipped."""
    rec = manifest().get(name)
    if rec is None:
        shipped = ", ".join(sorted(manifest())) or "none"
        raise EmotraceError(f"no shipped weights named {name!r} (shipped: {shipped})")
    return rec


def default_model(role: str, frame_model: str | None = None) -> str | None:
    """The shipped model of `role` marked default (for temporal: the one reading `frame_model`, if given)."""
    for name, rec in manifest().items():
        if rec.role == role and rec.default and (frame_model is None or rec.frame_model == frame_model):
            return name
    return None


def verified_file(name: str, onnx: bool = False) -> Path:
    """Path of a shipped file (the .pt, or the .onnx) after checking its sha256 against the manifest."""
    rec = weight_record(name)
    fname, digest = (rec.onnx_file, rec.onnx_sha256) if onnx else (rec.file, rec.sha256)
    if not fname:
        raise EmotraceError(f"model {name} ships no {'ONNX' if onnx else 'PyTorch'} file")
    path = WEIGHTS_DIR / fname
    if not path.is_file():
        raise EmotraceError(f"weights file missing from the package: {path}")
    if file_sha256(path) != digest:
        raise EmotraceError(f"weights file {path.name} fails its checksum (package damaged?)")
    return path
