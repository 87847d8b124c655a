"""The generic trainer: exact resume, every artifact of a run, and cross-dataset evaluation. Every config in
configs/ is trained, evaluated and exported in test_configs.py."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from emotrace.cli import main
from emotrace.models.checkpoint import load_model
from emotrace.train.engine import train
from emotrace.train.tasks.classify import ClassifyConfig
from tests.helpers import CKPLUS, FERPLUS

needs_ckplus = pytest.mark.skipif(not CKPLUS.is_dir(), reason=f"CK+48 data not found at {CKPLUS}")
needs_ferplus = pytest.mark.skipif(not FERPLUS.is_dir(), reason=f"FER+ data not found at {FERPLUS}")


def _pattern_dataset(root: Path, per_class: int = 16) -> Path:
    """Three classes of 48x48 images that differ in a learnable way (bar orientation), plus noise."""
    rng = np.random.default_rng(0)
    for cls, draw in (("happy", "h"), ("sad", "v"), ("angry", "d")):
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            img = rng.integers(0, 60, (48, 48), dtype=np.uint8)
            if draw == "h":
                img[20:28] = 230
            elif draw == "v":
                img[:, 20:28] = 230
            else:
                np.fill_diagonal(img, 230)
            cv2.imwrite(str(root / cls / f"{i}.png"), img)
    return root


def _cfg(tmp_path: Path, out: str, epochs: int) -> ClassifyConfig:
    data = tmp_path / "data"
    if not data.exists():
        _pattern_dataset(data)
    return ClassifyConfig(name="toy", arch="emotrace-cnn-s", arch_kwargs={"num_classes": 7}, data=str(data),
                       split="fixed", fixed_sizes=(32, 8), by_subject=False, align="never", epochs=epochs, batch_size=8,
                       lr=3e-3, optimizer="adamw", scheduler="cosine", threads=1, out_dir=str(tmp_path / out))


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    full = _cfg(tmp_path, "full", 3)
    train(full, command="test")
    part = _cfg(tmp_path, "part", 3)

    def crash(epoch, row):
        if epoch == 0:
            raise KeyboardInterrupt  # the session dies right after the first epoch's checkpoint

    with pytest.raises(KeyboardInterrupt):
        train(part, command="test", on_epoch_end=crash)
    train(part, resume=True, command="test")
    a = torch.load(Path(full.out_dir) / "last.pt", weights_only=False)["model"]
    b = torch.load(Path(part.out_dir) / "last.pt", weights_only=False)["model"]
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = (Path(part.out_dir) / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3  # header + one row per epoch, none duplicated by the resume


def test_run_writes_every_artifact_and_learns(tmp_path):
    cfg = _cfg(tmp_path, "run", 6)
    ev = train(cfg, command="emotrace train toy.yaml")
    out = Path(cfg.out_dir)
    for name in ("best.pt", "last.pt", "metrics.csv", "config.yaml", "metrics.json", "confusion.csv",
                 "confusion.png", "curves.png", "report.md", "report.html", "run.json"):
        assert (out / name).is_file(), name
    assert ev.metrics["accuracy"] > 0.5  # three learnable classes: chance is 1/3
    assert json.loads((out / "metrics.json").read_text())["run"]["train_rows"] == 32
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    report = (out / "report.md").read_text()
    assert "emotrace train toy.yaml" in report
    loaded = load_model(out)
    assert loaded.arch == "emotrace-cnn-s" and loaded.classes[:3] == ("angry", "disgust", "fear")
    assert loaded.task == "classify" and loaded.contract.kind == "image" and loaded.contract.size == 48


@pytest.mark.slow
@needs_ferplus
@needs_ckplus
@pytest.mark.parametrize("model", ["default", "emotrace-cnn-m-ferplus"])
def test_cross_dataset_ferplus_model_on_ckplus(tmp_path, capsys, model):
    from emotrace.models.manifest import manifest
    from emotrace.models.runtime import default_frame_model

    code = main(["-q", "evaluate", model, str(CKPLUS), "--out", str(tmp_path / "x")])
    assert code == 0
    m = json.loads((tmp_path / "x" / "metrics.json").read_text())
    name = default_frame_model() if model == "default" else model
    if "contempt" in manifest()[name].classes:  # an eight-class FER+ model scores contempt too
        assert m["dropped_classes"] == [] and m["n"] == 318 + 3 * 327  # neutral frames are kept either way
    else:  # a seven-class model lacks it: those sequences are dropped
        assert m["dropped_classes"] == ["contempt"]
        assert m["n"] == 318 + 3 * 309  # neutral first frames + three apex frames of the non-contempt sequences
    assert m["accuracy"] > 0.3
