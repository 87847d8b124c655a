"""The large-teacher recipe end to end at a toy size on the CPU (issue 23): cache from a mix config, one epoch of
a tiny teacher, its files, and the student reading its soft labels through the distillation path."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml

from emotrace.errors import EmotraceError
from emotrace.train.soft_labels import read_soft_labels, write_soft_labels

TINY = {"widths": [4, 4, 4, 4], "blocks": [1, 1, 1, 1], "work_size": 48}


def _fake_ferplus(root: Path, n: int = 24) -> Path:
    """A FER+ folder in the official layout: n random 48x48 faces per split with ten votes each."""
    rng = np.random.default_rng(0)
    for folder in ("FER2013Train", "FER2013Valid"):
        d = root / folder
        d.mkdir(parents=True)
        rows = []
        for i in range(n):
            name = f"fer{i:07d}.png"
            cv2.imwrite(str(d / name), rng.integers(0, 256, (48, 48), dtype=np.uint8))
            votes = np.zeros(10, int)
            votes[i % 8] = 7  # neutral .. contempt, each the clear winner somewhere
            votes[(i + 1) % 8] = 3
            rows.append(",".join([name, '"(0, 0, 48, 48)"', *map(str, votes)]))
        (d / "label.csv").write_text("\n".join(rows) + "\n")
    return root


def _config(tmp_path: Path, data: Path, **extra: object) -> Path:
    cfg = {"task": "mix", "data": str(data), "extra": {}, "balance": "logit_adjust", "include_contempt": True,
           "arch": "emotrace-cnn-s", "arch_kwargs": {"widths": [4, 4, 4, 8], "num_classes": 8},
           "epochs": 1, "batch_size": 8, "epoch_rows": 16, "threads": 1, "augment": True, "seed": 0,
           "out_dir": str(tmp_path / "student"), **extra}
    path = tmp_path / f"mix-{len(extra)}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_cache_teacher_and_distillation_from_its_soft_labels(tmp_path, monkeypatch):
    from emotrace.models.checkpoint import load_model
    from emotrace.train.engine import train
    from emotrace.train.resolve import load_train_config
    from emotrace.train.tasks import create_task
    from emotrace.train.teacher_cache import load_cache
    from scripts.gpu_teacher import main

    monkeypatch.setenv("EMOTRACE_CACHE", str(tmp_path / "decoded"))
    data = _fake_ferplus(tmp_path / "ferplus")
    cache_path = tmp_path / "cache" / "train.npz"
    assert main(["cache", "--config", str(_config(tmp_path, data)), "--out", str(cache_path)]) == 0
    cache = load_cache(cache_path)
    assert cache.images.dtype == np.uint8 and cache.images.shape[1:] == (48, 48)
    assert len(cache) == 24 and cache.keys[0] == "ferplus/fer0000000.png" and len(cache.classes) == 8

    out = tmp_path / "out"
    assert main(["train", "--cache", str(cache_path), "--out", str(out), "--device", "cpu", "--epochs", "1",
                 "--batch-size", "8", "--arch-kwargs", json.dumps(TINY)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["info.json", "log.csv", "soft_labels.npz", "teacher.pt"]
    assert all((out / f).stat().st_size <= 16 * 2**20 for f in files)
    labels = read_soft_labels(out / "soft_labels.npz")
    assert len(labels.keys) == len(cache) and np.isfinite(labels.logits).all()
    teacher = load_model(out / "teacher.pt")  # a frame model like any other
    assert teacher.task == "mix" and teacher.contract.size == 48 and "embedding" in teacher.contract.outputs

    cfg = load_train_config(_config(tmp_path, data, teacher_labels=str(out / "soft_labels.npz"),
                                    distill_weight=1.0, distill_temperature=2.0))
    task = create_task(cfg)
    task.setup(torch.device("cpu"))
    assert torch.isfinite(task.y["teacher"]).all()
    batch = task.batch(np.arange(8), torch.Generator().manual_seed(0))
    student = task.build_model().eval()  # no dropout: the two forwards must agree
    with torch.no_grad():
        plain = student(batch["x"])["logits"]
        want = torch.nn.functional.kl_div(torch.log_softmax(plain / 2, 1), torch.softmax(batch["teacher"] / 2, 1),
                                          reduction="batchmean") * 4
        got = task.loss(student, batch)
    assert float(got) == pytest.approx(float(want), rel=1e-4)
    assert train(cfg, command="test") is not None  # the whole engine, one epoch


def test_packed_images_come_back_within_the_dropped_bits():
    from emotrace.train.teacher_cache import pack_images, unpack_images

    x = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    for bits in (0, 2):
        back = unpack_images(pack_images(x, bits), bits)
        assert np.abs(back.astype(int) - x).max() <= max(0, (1 << bits) // 2)


def test_soft_labels_lookup_by_key_and_class_check(tmp_path):
    path = write_soft_labels(tmp_path / "s.npz", ["ferplus/a", "tfeid/x/1.jpg"], np.eye(2, 3), ("a", "b", "c"))
    labels = read_soft_labels(path)
    got = labels.lookup(["tfeid/x/1.jpg", "missing", "ferplus/a"], ("a", "b", "c"))
    assert np.allclose(got[0], [0, 1, 0]) and np.isnan(got[1]).all() and np.allclose(got[2], [1, 0, 0])
    with pytest.raises(EmotraceError, match="student predicts"):
        labels.lookup(["ferplus/a"], ("a", "b"))
    with pytest.raises(EmotraceError, match="no training row"):
        labels.lookup(["other"], ("a", "b", "c"))
