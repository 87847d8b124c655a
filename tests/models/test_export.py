"""ONNX export of trained architectures gives PyTorch's outputs within float tolerance."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from emotrace.cli import main
from emotrace.models import create_model
from emotrace.models.contract import input_spec_of
from emotrace.models.export import example_input, export_any
from emotrace.models.outputs import model_outputs


@pytest.mark.parametrize("arch, kwargs", [("seed4-cnn", {"head": "va", "size": 48}),
                                          ("seed3-cnn-lstm-td", {"num_classes": 7}),
                                          ("seed4-rnn", {"cell": "gru", "layers": 3}),
                                          ("emotrace-cnn-s", {})])
def test_export_matches_pytorch(tmp_path, arch, kwargs):
    torch.manual_seed(0)
    model = create_model(arch, **kwargs).eval()
    spec = input_spec_of(model)
    names = export_any(model, spec, str(tmp_path / "m.onnx"))
    x = example_input(spec, batch=3)
    with torch.no_grad():
        ref = model_outputs(model, x)
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run(names, {"input": x.numpy()})
    for name, arr in zip(names, got, strict=True):
        np.testing.assert_allclose(arr, ref[name].numpy(), rtol=1e-4, atol=1e-5)


def test_export_a_checkpoint_from_the_cli(tmp_path, capsys):
    from emotrace.models.checkpoint import model_checkpoint
    from emotrace.models.contract import contract_of

    model = create_model("seed4-cnn", head="classes", num_classes=7, size=48)
    classes = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    ck = model_checkpoint(model, "classify", "seed4-cnn", {"head": "classes", "num_classes": 7, "size": 48},
                          contract_of(model, classes, ["logits"]), {}, 0)
    torch.save(ck, tmp_path / "best.pt")
    assert main(["-q", "export", str(tmp_path / "best.pt"), "--onnx", str(tmp_path / "run.onnx")]) == 0
    sess = ort.InferenceSession(str(tmp_path / "run.onnx"), providers=["CPUExecutionProvider"])
    (logits,) = sess.run(["logits"], {"input": np.random.rand(5, 1, 48, 48).astype(np.float32)})
    assert logits.shape == (5, 7)
    torch.save({"arch": "seed4-cnn"}, tmp_path / "old.pt")
    assert main(["-q", "export", str(tmp_path / "old.pt"), "--onnx", str(tmp_path / "x.onnx")]) == 2
    assert "not a model checkpoint written by `emotrace train`" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()
