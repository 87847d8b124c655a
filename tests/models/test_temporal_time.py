"""Time-aware and look-ahead temporal stages: frame rate, gaps, ONNX parity, and state that never crosses tracks."""

import numpy as np
import pytest
import torch

from emotrace.models import create_model
from emotrace.models.manifest import manifest
from emotrace.models.temporal.causal import RnnTemporal
from emotrace.models.temporal.decoding import filter_sequence, smooth_sequence
from emotrace.models.temporal.filters import HmmTemporal, LookaheadTemporal
from emotrace.models.temporal.offline import OfflineRnnTemporal

D = 16


def _timed(name="emotrace-tgru"):
    torch.manual_seed(0)
    return create_model(name, input_dim=D, hidden=8, valence_arousal=True).eval()


def _clip(n=60, seed=0):
    """Embeddings that hold for a while and then change, with per-frame jitter, like a tracked face."""
    rng = np.random.default_rng(seed)
    seg = np.repeat(rng.normal(size=(n // 20 + 1, D)), 20, 0)[:n]
    return (seg + 0.2 * rng.normal(size=(n, D))).astype(np.float32)


def _run(stage, ids, times, embs, probs=None):
    """Step a stage over (T, N, ...) inputs, settle, and return (T, N, 7) outputs (filled in place if late)."""
    probs = np.full((len(times), len(ids), 7), 1 / 7, np.float32) if probs is None else probs
    outs = [stage.step(np.asarray(ids), float(t), p, e) for t, p, e in zip(times, probs, embs, strict=True)]
    stage.settle(float("inf"))
    return np.stack([o["probs"] for o in outs])


@pytest.mark.parametrize("name", ["emotrace-tgru", "emotrace-tlstm"])
def test_stepwise_equals_whole_sequence_with_dt(name):
    m = _timed(name)
    x = torch.randn(2, 9, D)
    dt = torch.tensor([[1 / 30] * 9, [1 / 15, 1 / 60, 1 / 30, 2.0, 1 / 30, 0.5, 1 / 30, 1 / 30, 1 / 30]])
    with torch.no_grad():
        whole, _ = m(x, dt)
    state = m.init_state(2)
    for t in range(9):
        out, state = m.step(x[:, t], dt[:, t], state)
        assert torch.allclose(out["logits"], whole["logits"][:, t], atol=1e-5)


def test_same_clip_at_30_and_15_fps_gives_the_same_labels():
    """The shipped causal model on a clip at 30 fps and the same clip at 15 fps (every other frame), compared at
    the shared timestamps: the time-aware model is told the interval, so it moves as far per second."""
    names = [n for n, r in manifest().items() if r.role == "temporal" and r.arch in ("emotrace-tgru", "emotrace-tlstm")]
    if not names:
        pytest.skip("no time-aware temporal model shipped")
    for name in names:
        model = create_model(name, pretrained=True)
        dim = int(model.input_spec["channels"])
        rng = np.random.default_rng(1)
        x = np.maximum(np.repeat(rng.gamma(1.0, 0.2, size=(4, dim)), 30, 0) + rng.normal(0, 0.05, (120, dim)), 0)
        x = torch.from_numpy(x.astype(np.float32))[None]
        with torch.no_grad():
            fast, _ = model(x, torch.full((1, 120), 1 / 30))
            slow, _ = model(x[:, ::2], torch.full((1, 60), 1 / 15))
        pf, ps = torch.softmax(fast["logits"][0, ::2], -1), torch.softmax(slow["logits"][0], -1)
        tv = 0.5 * (pf - ps).abs().sum(-1)
        assert tv[5:].mean() < 0.06, name  # after the first few frames
        assert (pf.argmax(-1) == ps.argmax(-1))[5:].float().mean() >= 0.9, name


@pytest.mark.parametrize("name", ["emotrace-tgru", "emotrace-tlstm"])
def test_state_resets_after_a_long_gap_and_decays_over_a_short_one(name):
    m = _timed(name)
    stage = RnnTemporal.for_model(m, "t")
    x = _clip(12)
    ids = np.array([1])
    for k in range(10):
        stage.step(ids, k / 30, None, x[k:k + 1])
    after_gap = stage.step(ids, 10 / 30 + m.reset_s + 0.5, None, x[10:11])["probs"]
    fresh = RnnTemporal.for_model(m, "t").step(np.array([7]), 0.0, None, x[10:11])["probs"]
    assert np.allclose(after_gap, fresh, atol=1e-6)
    state = torch.ones(1, m.state_size)
    decayed = m._advance(torch.zeros(1, D), torch.tensor([0.5]), state)
    short = m._advance(torch.zeros(1, D), torch.tensor([1 / 30]), state)
    assert not torch.allclose(decayed, short)


def _stages():
    torch.manual_seed(0)
    look = create_model("emotrace-lookahead-gru", input_dim=D, hidden=8, proj=4, valence_arousal=True,
                        lookahead_s=0.2).eval()
    return {
        "timed": lambda: RnnTemporal.for_model(_timed(), "t"),
        "hmm": lambda: HmmTemporal(),
        "hmm-lookahead": lambda: LookaheadTemporal(RnnTemporal.for_model(_timed(), "t"), delay_s=0.2),
        "offline": lambda: OfflineRnnTemporal.for_model(look, "look"),
    }


@pytest.mark.parametrize("kind", ["timed", "hmm", "hmm-lookahead", "offline"])
def test_no_state_crosses_from_one_track_to_another(kind):
    make = _stages()[kind]
    xa, xb = _clip(30, 1), _clip(30, 2)
    times = np.arange(30) / 30
    both, flipped = make(), make()
    pa = np.stack([_softmaxish(x) for x in xa])[:, None]
    pb = np.stack([_softmaxish(x) for x in xb])[:, None]

    def run(stage, order):
        outs = []
        for k, t in enumerate(times):
            emb = {1: (xa[k], pa[k, 0]), 2: (xb[k], pb[k, 0])}
            ids = np.array(order if k % 2 else order[::-1])
            res = stage.step(ids, float(t), np.stack([emb[i][1] for i in ids]), np.stack([emb[i][0] for i in ids]))
            outs.append((ids, res["probs"]))
        stage.settle(float("inf"))
        return {tid: np.stack([p[list(ids).index(tid)] for ids, p in outs]) for tid in (1, 2)}

    together = run(both, [1, 2])
    swapped = run(flipped, [2, 1])
    alone = make()
    solo = []
    for k, t in enumerate(times):
        solo.append(alone.step(np.array([1]), float(t), pa[k], xa[k:k + 1])["probs"])
    alone.settle(float("inf"))
    solo = np.concatenate(solo)
    assert np.allclose(together[1], solo, atol=1e-5)
    assert np.allclose(swapped[1], solo, atol=1e-5)


def _softmaxish(x):
    z = np.exp(x[:7] - x[:7].max())
    return (z / z.sum()).astype(np.float32)


def test_offline_stage_gives_what_training_computes_including_a_gap():
    """The pipeline's look-ahead stage (bounded memory, outputs filled in late) equals the model's forward over the
    whole sequence, which is what training optimised."""
    torch.manual_seed(0)
    m = create_model("emotrace-lookahead-gru", input_dim=D, hidden=8, proj=4, lookahead_s=0.2).eval()
    x = _clip(40, 3)
    times = np.concatenate([np.arange(20) / 30, 20 / 30 + 1.5 + np.arange(20) / 30])  # a 1.5 s gap at frame 20
    dt = np.diff(times, prepend=times[0] - 1 / 30).astype(np.float32)
    with torch.no_grad():
        whole, _ = m(torch.from_numpy(x)[None], torch.from_numpy(dt)[None])
    want = torch.softmax(whole["logits"][0], -1).numpy()
    got = _run(OfflineRnnTemporal.for_model(m, "look"), [1], times, x[:, None])[:, 0]
    assert np.allclose(got, want, atol=1e-5)


def test_offline_stage_holds_only_its_look_ahead():
    torch.manual_seed(0)
    m = create_model("emotrace-lookahead-gru", input_dim=D, hidden=8, proj=4, lookahead_s=0.2).eval()
    stage = OfflineRnnTemporal.for_model(m, "look")
    x = _clip(300, 4)
    for k in range(300):
        stage.step(np.array([1]), k / 30, np.full((1, 7), 1 / 7, np.float32), x[k:k + 1])
        assert len(stage._held[1]) <= int(0.2 * 30) + 1


def test_hmm_lookahead_stage_matches_the_sequence_decoder_and_resets_on_gaps():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(7) * 0.5, size=50).astype(np.float32)
    times = np.concatenate([np.arange(25) / 30, 25 / 30 + 3.0 + np.arange(25) / 30])
    hmm = _run(HmmTemporal(reset_s=2.0), [1], times, probs[:, None], probs[:, None])
    assert np.allclose(hmm[:, 0], filter_sequence(times, probs, reset_s=2.0), atol=1e-5)
    fresh = _run(HmmTemporal(reset_s=2.0), [1], times[25:], probs[25:, None], probs[25:, None])
    assert np.allclose(hmm[25:, 0], fresh[:, 0], atol=1e-6)  # nothing before the gap survives it
    ident = _Ident()
    stage = LookaheadTemporal(ident, delay_s=0.2, switch_rate=1.0, sharpness=0.5, reset_s=2.0)
    got = _run(stage, [1], times, probs[:, None], probs[:, None])[:, 0]
    want = smooth_sequence(times, probs, lag=6, switch_rate=1.0, sharpness=0.5, reset_s=2.0)
    assert np.allclose(got, want, atol=1e-5)


class _Ident:
    """A causal stage that passes the frame probabilities through (to test the decoder alone)."""

    name, description, mode, delay_s, has_valence_arousal = "id", "", "causal", 0.0, False

    def step(self, ids, t, probs, emb):
        return {"probs": probs}

    def drop(self, ids):
        pass

    def reset(self):
        pass

    def settle(self, before_t):
        pass


@pytest.mark.parametrize("name", ["emotrace-tgru", "emotrace-tlstm", "emotrace-lookahead-gru"])
def test_onnx_export_matches_pytorch(tmp_path, name):
    from emotrace.models.export import export_temporal_onnx, onnx_parity

    torch.manual_seed(0)
    m = create_model(name, input_dim=D, hidden=8, valence_arousal=True).eval()
    export_temporal_onnx(m, str(tmp_path / "m.onnx"))
    assert onnx_parity(m, str(tmp_path / "m.onnx"), m.input_spec, temporal=True) < 1e-4


def test_shipped_look_ahead_model_runs_the_same_on_onnx_runtime():
    """Files use the look-ahead model's ONNX export (no torch import); it gives what the PyTorch stage gives, gaps
    and two interleaved tracks included."""
    from emotrace.models.temporal.offline import offline_model

    name = offline_model(None)
    if name is None:
        pytest.skip("no look-ahead model ships")
    rec = manifest()[name]
    dim = rec.contract.embedding_dim or int(rec.contract.spec.get("channels", 256))
    rng = np.random.default_rng(5)
    n = 45
    x = {tid: (np.repeat(rng.normal(size=(4, dim)), 12, 0)[:n] + 0.3 * rng.normal(size=(n, dim))).astype(np.float32)
         for tid in (1, 2)}
    times = np.concatenate([np.arange(25) / 30, 25 / 30 + 1.6 + np.arange(20) / 30])  # a gap past reset_s
    p = np.full((n, 1, 7), 1 / 7, np.float32)

    def run(stage):
        outs = []
        for k, t in enumerate(times):
            ids = np.array([1, 2] if k % 2 else [2, 1])
            res = stage.step(ids, float(t), np.concatenate([p[k], p[k]]), np.stack([x[i][k] for i in ids]))
            outs.append((ids, res))
        stage.settle(float("inf"))
        return {tid: (np.stack([r["probs"][list(ids).index(tid)] for ids, r in outs]),
                      np.stack([r["valence_arousal"][list(ids).index(tid)] for ids, r in outs])) for tid in (1, 2)}

    onnx, ref = run(OfflineRnnTemporal.load(name, onnx=True)), run(OfflineRnnTemporal.load(name))
    for tid in (1, 2):
        assert np.abs(onnx[tid][0] - ref[tid][0]).max() < 1e-4
        assert np.abs(onnx[tid][1] - ref[tid][1]).max() < 1e-4
