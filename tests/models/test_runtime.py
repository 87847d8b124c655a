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


def test_a_seed_cnn_run_drives_the_pipeline_as_a_frame_model(tmp_path):
    """`--frame-model RUN` with a seed still model (a classify run: logits only): its features become the
    embedding and its eight classes fold to the pipeline's seven; a clip model is still refused."""
    import torch

    from emotrace.errors import EmotraceError
    from emotrace.models import create_model
    from emotrace.models.checkpoint import model_checkpoint
    from emotrace.models.contract import contract_of
    from emotrace.models.runtime import FrameModelRunner

    classes = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt"]
    kw = {"head": "classes", "num_classes": 8, "size": 48}
    model = create_model("seed4-cnn", **kw)
    torch.save(model_checkpoint(model, "classify", "seed4-cnn", kw, contract_of(model, classes, ["logits"]), {}, 0),
               tmp_path / "best.pt")
    runner = FrameModelRunner(str(tmp_path / "best.pt"))
    out = runner(np.random.default_rng(0).integers(0, 255, (3, 48, 48), dtype=np.uint8))
    assert runner.input_size == 48 and out["probs"].shape == (3, 7) and out["embedding"].shape == (3, 300)
    np.testing.assert_allclose(out["probs"].sum(1), 1.0, rtol=1e-5)
    clip = create_model("seed1-conv3d-lstm")
    torch.save(model_checkpoint(clip, "classify", "seed1-conv3d-lstm", {}, contract_of(clip, classes[:6], ["logits"]),
                                {}, 0), tmp_path / "clip.pt")
    with pytest.raises(EmotraceError, match="not a frame model"):
        FrameModelRunner(str(tmp_path / "clip.pt"))


def test_seed4_rnn_run_is_a_temporal_stage_behind_its_cnn(tmp_path):
    """`--temporal RUN` with seed 4's RNN (a classify run over windows of its CNN's embeddings): per track a window
    of the last W embeddings, seven-class probabilities out; behind any other frame model it is refused."""
    import torch

    from emotrace.errors import EmotraceError
    from emotrace.models import create_model
    from emotrace.models.checkpoint import model_checkpoint
    from emotrace.models.contract import contract_of
    from emotrace.models.temporal.factory import create_temporal

    classes = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt"]
    kw = {"cell": "gru", "layers": 1, "head": "classes", "num_classes": 8, "window": 5}
    rnn = create_model("seed4-rnn", **kw)
    cnn_run = str(tmp_path / "cnn")
    ck = model_checkpoint(rnn, "classify", "seed4-rnn", kw,
                          contract_of(rnn, classes, ["logits"], features_from=cnn_run), {"features_from": cnn_run}, 0)
    torch.save(ck, tmp_path / "rnn.pt")
    stage = create_temporal(str(tmp_path / "rnn.pt"), frame_model=cnn_run)
    emb = np.random.default_rng(0).normal(size=(2, 300)).astype(np.float32)
    for i in range(7):  # past the window: the deque keeps the last 5
        out = stage.step(np.array([1, 2]), i / 30, np.full((2, 7), 1 / 7, np.float32), emb, ended=[2] if i == 6 else ())
    assert out["probs"].shape == (2, 7) and np.allclose(out["probs"].sum(1), 1.0, atol=1e-5)
    assert len(stage._state[1]) == 5 and len(stage._state[2]) == 1  # track 2 ended and came back
    with pytest.raises(EmotraceError, match="--frame-model"):
        create_temporal(str(tmp_path / "rnn.pt"), frame_model="default")
