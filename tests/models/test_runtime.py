import numpy as np
import pytest

from emotrace.models.export import export_onnx
from emotrace.models.runtime import FrameModelRunner


def test_onnx_and_torch_give_the_same_outputs():
    crops = np.random.default_rng(0).integers(0, 255, (5, 48, 48), dtype=np.uint8)
    a = FrameModelRunner("default", runtime="onnx")(crops)
    b = FrameModelRunner("default", runtime="torch")(crops)
    assert np.abs(a["probs"] - b["probs"]).max() < 1e-4
    assert np.abs(a["embedding"] - b["embedding"]).max() < 1e-3
    assert a["probs"].sum(1) == pytest.approx(np.ones(5), abs=1e-5)


def test_empty_batch():
    out = FrameModelRunner("default")(np.zeros((0, 48, 48), np.uint8))
    assert out["probs"].shape == (0, 7)


def test_export_reproduces_pytorch(tmp_path):
    import onnxruntime as ort
    import torch

    from emotrace.models import create_model

    model = create_model("emotrace-cnn-m-ferplus", pretrained=True)
    export_onnx(model, str(tmp_path / "m.onnx"))
    x = np.random.default_rng(1).random((4, 1, 48, 48), dtype=np.float32)
    got = ort.InferenceSession(str(tmp_path / "m.onnx")).run(["logits"], {"crops": x})[0]
    with torch.no_grad():
        ref = model(torch.from_numpy(x))["logits"].numpy()
    assert np.abs(got - ref).max() < 1e-4
