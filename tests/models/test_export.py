"""ONNX export of trained architectures gives PyTorch's outputs within float tolerance."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from emotrace.cli import main
from emotrace.models import create_model
from emotrace.models.export import example_input, export_any
from emotrace.train.run import input_spec_of, model_outputs


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


def test_export_a_run_folder_from_the_cli(tmp_path, capsys):
    model = create_model("seed4-cnn", head="classes", num_classes=7, size=48)
    torch.save({"arch": "seed4-cnn", "arch_kwargs": {"head": "classes", "num_classes": 7, "size": 48},
                "classes": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
                "state_dict": model.state_dict()}, tmp_path / "best.pt")
    assert main(["-q", "export", str(tmp_path), "--onnx", str(tmp_path / "run.onnx")]) == 0
    sess = ort.InferenceSession(str(tmp_path / "run.onnx"), providers=["CPUExecutionProvider"])
    (logits,) = sess.run(["logits"], {"input": np.random.rand(5, 1, 48, 48).astype(np.float32)})
    assert logits.shape == (5, 7)
