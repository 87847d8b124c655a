import json
import shutil

import pytest
import torch

from emotrace.errors import EmotraceError
from emotrace.models import create_model, list_models
from emotrace.models import manifest as registry


def test_architectures_are_registered():
    assert {"emotrace-cnn-s", "emotrace-gru", "emotrace-lstm"} <= set(list_models())


def test_unknown_names_are_clear_errors():
    with pytest.raises(EmotraceError, match="unknown model"):
        create_model("resnet-9000")
    with pytest.raises(EmotraceError, match="no shipped weights"):
        create_model("nothing-shipped", pretrained=True)


def test_default_frame_weights_load_and_pass_their_checksum():
    rec = registry.weight_record("emotrace-cnn-m-ferplus")
    model = create_model("emotrace-cnn-m-ferplus", pretrained=True)
    out = model(torch.rand(3, 1, rec.input_size, rec.input_size))
    assert out["logits"].shape == (3, len(rec.classes)) and out["embedding"].shape == (3, rec.embedding_dim)


def test_weights_total_stays_small():
    total = sum(p.stat().st_size for p in registry.WEIGHTS_DIR.iterdir())
    assert total < 20 * 10**6


def test_every_shipped_model_has_checksums_onnx_and_a_card():
    man = registry.manifest()
    assert {v.role for v in man.values()} >= {"frame", "temporal"}
    for name in man:
        for onnx in (False, True):
            assert registry.verified_file(name, onnx=onnx).is_file()
        card = (registry.WEIGHTS_DIR / f"{name}.md").read_text()
        assert "Licence of the training data" in card and "research use" in card
    defaults = [k for k, v in man.items() if v.default]
    assert sorted(man[k].role for k in defaults) == ["frame", "temporal"]
    temporal = next(k for k in defaults if man[k].role == "temporal")
    assert man[temporal].frame_model in defaults


def test_altered_weights_fail_the_checksum(tmp_path, monkeypatch):
    shutil.copytree(registry.WEIGHTS_DIR, tmp_path / "w")
    rec = registry.manifest()["emotrace-cnn-m-ferplus"]
    with open(tmp_path / "w" / rec.file, "ab") as fh:
        fh.write(b"\0")
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path / "w")
    monkeypatch.setattr(registry, "MANIFEST_PATH", tmp_path / "w" / "manifest.json")
    registry.manifest.cache_clear()
    try:
        assert json.loads((tmp_path / "w" / "manifest.json").read_text())
        with pytest.raises(EmotraceError, match="checksum"):
            create_model("emotrace-cnn-m-ferplus", pretrained=True)
    finally:
        registry.manifest.cache_clear()


def test_manifest_records_are_validated(tmp_path):
    good = json.loads(registry.MANIFEST_PATH.read_text())["emotrace-cnn-m-ferplus"]
    rec = registry.WeightRecord.from_dict("x", good)
    assert rec.contract.kind == "image" and rec.contract.size == 48 and "embedding" in rec.contract.outputs
    assert registry.WeightRecord.from_dict("x", rec.to_dict()) == rec
    for broken, message in (({**good, "role": "audio"}, "role must be"), ({**good, "colour": 1}, "unknown fields"),
                            ({k: v for k, v in good.items() if k != "sha256"}, "missing sha256"),
                            ({**good, "role": "temporal", "frame_model": ""}, "must name its frame_model"),
                            ({**good, "contract": {**good["contract"], "kind": "audio"}}, "input kind")):
        with pytest.raises(EmotraceError, match=message):
            registry.WeightRecord.from_dict("x", broken)
