"""`emotrace ship RUN`: a run trained by the engine goes into the package with weights, ONNX, checksums, metrics
and a card, and then loads by name like any shipped model."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from emotrace.cli import main
from emotrace.models import create_model
from emotrace.models import manifest as man
from tests.helpers import FERPLUS, REPO, needs_ferplus


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    """A copy of the package's weights folder, so shipping in a test never touches the real one."""
    import emotrace.train.cards as cards
    import emotrace.train.ship as ship

    w = tmp_path / "weights"
    shutil.copytree(man.WEIGHTS_DIR, w)
    for module in (man, cards, ship):
        monkeypatch.setattr(module, "WEIGHTS_DIR", w)
    monkeypatch.setattr(man, "MANIFEST_PATH", w / "manifest.json")
    man.manifest.cache_clear()
    yield w
    man.manifest.cache_clear()


@pytest.mark.slow
@needs_ferplus
def test_ship_a_frame_run_then_load_it_by_name(tmp_path, weights_dir, capsys):
    run = tmp_path / "run"
    assert main(["-q", "train", str(REPO / "configs" / "frame-default.yaml"), "--set", f"data={FERPLUS}",
                 "--epochs", "1", "--max-train", "256", "--max-eval", "100", "--out-dir", str(run)]) == 0
    assert main(["-q", "ship", str(run), "--name", "test-frame", "--not-default", "--data-root", str(FERPLUS)]) == 0
    rec = man.manifest()["test-frame"]
    assert rec.role == "frame" and rec.task == "frame" and not rec.default
    assert rec.contract.size == 48 and rec.classes[:2] == ["angry", "disgust"] and "embedding" in rec.contract.outputs
    assert rec.trained_on.startswith("cpu, 1 process(es)") and "emotrace" in rec.trained_with
    assert 0 < rec.metrics["ferplus_valid_acc_7class_plurality"] < 1 and rec.metrics["ferplus_valid_n"] > 3000
    assert (weights_dir / "test-frame.md").read_text().startswith("# Model card: test-frame")
    model = create_model("test-frame", pretrained=True)  # through the checksum
    run_model = torch.load(run / "final.pt", weights_only=False)["state_dict"]
    assert all(torch.equal(model.state_dict()[k], run_model[k]) for k in run_model)
    on_disk = json.loads((weights_dir / "manifest.json").read_text())
    assert sum(r["default"] for r in on_disk.values() if r["role"] == "frame") == 1  # the old default stays
    assert main(["-q", "export", "test-frame", "--onnx", str(tmp_path / "t.onnx")]) == 0


def test_a_run_that_cannot_drive_the_pipeline_is_refused(tmp_path, weights_dir, capsys):
    from emotrace.models.checkpoint import model_checkpoint
    from emotrace.models.contract import contract_of

    model = create_model("seed3-cnn-lstm-td", num_classes=7, frames=4)
    ck = model_checkpoint(model, "classify", "seed3-cnn-lstm-td", {"num_classes": 7, "frames": 4},
                          contract_of(model, ["a"] * 7, ["logits"]), {}, 0)
    (tmp_path / "run").mkdir()
    torch.save(ck, tmp_path / "run" / "best.pt")
    assert main(["-q", "ship", str(tmp_path / "run"), "--name", "x"]) == 2
    assert "cannot drive the pipeline" in capsys.readouterr().err
    assert "x" not in man.manifest()
