import numpy as np
import pytest
import torch

from emotrace.models import create_model
from emotrace.models.manifest import manifest
from emotrace.models.temporal.causal import RnnTemporal
from emotrace.models.temporal.filters import EmaTemporal


@pytest.mark.parametrize("name", ["emotrace-gru", "emotrace-lstm"])
def test_stepwise_equals_whole_sequence(name):
    torch.manual_seed(0)
    m = create_model(name, input_dim=16, hidden=8, layers=2).eval()
    x = torch.randn(3, 7, 16)
    with torch.no_grad():
        whole, _ = m(x)
    state, steps = None, []
    for t in range(7):
        out, state = m.step(x[:, t], state)
        steps.append(out["logits"])
    assert torch.allclose(torch.stack(steps, 1), whole["logits"], atol=1e-5)


def test_ema_follows_a_change_and_keeps_tracks_apart():
    ema = EmaTemporal(tau_s=0.2)
    a, b = np.eye(7, dtype=np.float32)[[3]], np.eye(7, dtype=np.float32)[[4]]
    ids = np.array([1])
    assert ema.step(ids, 0.0, a, a)["probs"][0, 3] == 1.0
    p = ema.step(ids, 0.04, b, b)["probs"][0]
    assert 0.5 < p[3] < 1.0 and p.sum() == pytest.approx(1.0)
    assert ema.step(np.array([2]), 0.04, b, b)["probs"][0, 4] == 1.0  # a new track starts fresh
    for k in range(2, 40):
        p = ema.step(ids, 0.04 * k, b, b)["probs"][0]
    assert p[4] > 0.99
    assert ema.step(ids, 10.0, a, a)["probs"][0, 3] == 1.0  # long gap: state restarts


def test_rnn_temporal_keeps_one_state_per_track(monkeypatch):
    torch.manual_seed(0)
    model = create_model("emotrace-gru", input_dim=4, hidden=5).eval()
    stage = RnnTemporal.for_model(model, "test")
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(6, 4)).astype(np.float32), rng.normal(size=(6, 4)).astype(np.float32)
    interleaved = []
    for t in range(6):  # both tracks in one batch, and in swapped order on odd frames
        if t % 2:
            out = stage.step(np.array([2, 1]), t, None, np.stack([xb[t], xa[t]]))["probs"][::-1]
        else:
            out = stage.step(np.array([1, 2]), t, None, np.stack([xa[t], xb[t]]))["probs"]
        interleaved.append(out)
    stage.reset()
    alone = [stage.step(np.array([1]), t, None, xa[t:t + 1])["probs"][0] for t in range(6)]
    assert np.allclose(np.array(interleaved)[:, 0], np.array(alone), atol=1e-5)


@pytest.mark.parametrize("name", ["emotrace-gru", "emotrace-lstm"])
def test_onnx_step_export_matches_pytorch_over_a_sequence(tmp_path, name):
    import onnxruntime as ort

    from emotrace.models.export import export_temporal_onnx

    torch.manual_seed(0)
    m = create_model(name, input_dim=12, hidden=6, layers=2, valence_arousal=True).eval()
    path = tmp_path / "t.onnx"
    outputs = export_temporal_onnx(m, str(path))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = torch.randn(3, 5, 12)
    with torch.no_grad():
        whole, _ = m(x)
    h = np.zeros((2, 3, 6), np.float32)
    c = h.copy()
    for t in range(5):
        feed = {"embedding": x[:, t].numpy(), "h": h} | ({"c": c} if name.endswith("lstm") else {})
        res = dict(zip(outputs, sess.run(outputs, feed), strict=True))
        h = res["h_out"]
        c = res.get("c_out", c)
        assert np.allclose(res["logits"], whole["logits"][:, t].numpy(), atol=1e-4)
        assert np.allclose(res["valence_arousal"], whole["valence_arousal"][:, t].numpy(), atol=1e-4)


def test_a_temporal_model_must_match_the_frame_model(monkeypatch):
    from emotrace.errors import EmotraceError
    from emotrace.models import manifest as man
    from emotrace.models.contract import ModelContract
    from emotrace.models.temporal import factory

    def record(name: str, role: str, **kw: object) -> man.WeightRecord:
        contract = ModelContract(kind="features" if role == "temporal" else "image", size=None if role == "temporal"
                                 else 48, channels=8, frames=None)
        return man.WeightRecord(name=name, role=role, arch="emotrace-gru", arch_kwargs={}, contract=contract,
                                file="x.pt", sha256="0", **kw)  # type: ignore[arg-type]

    fake = {"frame-a": record("frame-a", "frame"),
            "gru-a": record("gru-a", "temporal", default=True, frame_model="frame-a")}
    monkeypatch.setattr(man, "manifest", lambda: fake)
    monkeypatch.setattr(factory, "weight_record", lambda n: fake[n])
    monkeypatch.setattr(factory.RnnTemporal, "load", classmethod(lambda cls, n, onnx=False: f"rnn:{n}"))
    assert factory.create_temporal("auto", frame_model="frame-a") == "rnn:gru-a"
    assert isinstance(factory.create_temporal("auto", frame_model="frame-b"), EmaTemporal)
    with pytest.raises(EmotraceError, match="reads frame-a embeddings"):
        factory.create_temporal("gru-a", frame_model="frame-b")
    with pytest.raises(EmotraceError, match="not a temporal model"):
        factory.create_temporal("frame-a", frame_model="frame-a")
    with pytest.raises(EmotraceError, match="time constant must be a number"):
        factory.create_temporal("ema:fast")


CAUSAL_SHIPPED = sorted(n for n, r in manifest().items() if r.role == "temporal" and not r.contract.offline
                        and r.onnx_file)


@pytest.mark.parametrize("name", CAUSAL_SHIPPED or ["none"])
def test_the_onnx_temporal_step_matches_the_torch_one(name):
    """The ONNX pipeline steps a shipped causal model (plain or time-aware) on ONNX Runtime: same outputs as
    PyTorch, per track, as tracks come and go (one stage class, two step backends)."""
    if name == "none":
        pytest.skip("no shipped temporal model")
    a, b = RnnTemporal.load(name), RnnTemporal.load(name, onnx=True)
    assert (a.description, a.time_aware) == (b.description, b.time_aware)
    assert a.has_valence_arousal == b.has_valence_arousal
    rng = np.random.default_rng(0)
    schedule = [[1], [1, 2], [2, 1], [3], [1, 3, 2], [2]]
    for t, ids in enumerate(schedule * 3):
        emb = rng.normal(size=(len(ids), 256)).astype(np.float32)
        ra = a.step(np.array(ids), t * 0.04, emb[:, :7], emb)
        rb = b.step(np.array(ids), t * 0.04, emb[:, :7], emb)
        assert set(ra) == set(rb)
        for k in ra:
            assert np.allclose(ra[k], rb[k], atol=1e-5), k
        if t == 7:
            a.drop([1])
            b.drop([1])
