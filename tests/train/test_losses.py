"""Losses against independent float64 references and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from emotrace.train.losses import CCCLoss, MultiTaskLoss, ccc, make_loss


def ccc_reference(x: np.ndarray, y: np.ndarray) -> float:
    """Lin (1989), population moments, float64, written out term by term."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    mx, my = x.sum() / len(x), y.sum() / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / len(x)
    sx2 = sum((a - mx) ** 2 for a in x) / len(x)
    sy2 = sum((b - my) ** 2 for b in y) / len(y)
    return 2 * sxy / (sx2 + sy2 + (mx - my) ** 2)


def test_ccc_loss_matches_float64_reference():
    rng = np.random.default_rng(3)
    target = rng.uniform(-1, 1, (50, 2))
    pred = 0.6 * target + rng.normal(0, 0.3, (50, 2)) + np.array([0.1, -0.2])
    expect = 1 - (ccc_reference(pred[:, 0], target[:, 0]) + ccc_reference(pred[:, 1], target[:, 1])) / 2
    got = CCCLoss()(torch.tensor(pred, dtype=torch.float32), torch.tensor(target, dtype=torch.float32))
    assert float(got) == pytest.approx(expect, abs=1e-5)
    assert 0.05 < expect < 1.5  # the case is not degenerate


def test_ccc_hand_values():
    x = torch.tensor([1.0, 2.0, 3.0])
    assert float(ccc(x, x)) == pytest.approx(1.0, abs=1e-6)
    c = x - 2  # zero mean: the mirror image is perfectly discordant
    assert float(ccc(c, -c)) == pytest.approx(-1.0, abs=1e-6)
    # mirrored about 0 with means 2 and -2: s_xy = -2/3, (2/3 + 2/3 + 16) -> -1/13
    assert float(ccc(x, -x)) == pytest.approx(-1 / 13, abs=1e-6)
    # y = x + 1: s_xy = s_x^2 = s_y^2 = 2/3, mean gap 1 -> 2 * (2/3) / (4/3 + 1) = 4/7
    assert float(ccc(x, x + 1)) == pytest.approx(4 / 7, abs=1e-6)


def test_ccc_loss_ignores_nan_rows_and_has_gradients():
    pred = torch.tensor([[0.1, 0.2], [0.5, -0.1], [0.9, 0.4], [0.0, 0.0]], requires_grad=True)
    target = torch.tensor([[0.0, 0.1], [0.6, 0.0], [1.0, 0.5], [float("nan"), 0.3]])
    loss = CCCLoss()(pred, target)
    ref = 1 - np.mean([ccc_reference(pred.detach()[:3, d].numpy(), target[:3, d].numpy()) for d in range(2)])
    assert loss.item() == pytest.approx(ref, abs=1e-5)
    loss.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad[3].abs().sum() == 0


def test_cross_entropy_smoothing_and_weights():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    y = torch.tensor([0, 2])
    lse = [math.log(math.exp(2) + 2), math.log(math.e + 2)]
    nll = [lse[0] - 2.0, lse[1] - 0.0]
    assert float(make_loss("ce")(logits, y)) == pytest.approx(sum(nll) / 2, rel=1e-5)
    w = [1.0, 1.0, 3.0]  # weighted mean: (1 * nll0 + 3 * nll1) / (1 + 3)
    assert float(make_loss("ce", class_weights=w)(logits, y)) == pytest.approx((nll[0] + 3 * nll[1]) / 4, rel=1e-5)
    # smoothing eps: target (1 - eps) one-hot + eps / C uniform
    eps = 0.3
    logp = torch.log_softmax(logits.double(), 1).numpy()
    q = np.full((2, 3), eps / 3)
    q[[0, 1], [0, 2]] += 1 - eps
    expect = -(q * logp).sum(1).mean()
    assert float(make_loss("cross_entropy", label_smoothing=eps)(logits, y)) == pytest.approx(expect, rel=1e-5)


def test_cross_entropy_accepts_sequences_and_ignores_labels():
    logits = torch.randn(2, 5, 4)
    y = torch.randint(0, 4, (2, 5))
    y[0, 0] = -100
    keep = y.reshape(-1) != -100
    expect = torch.nn.functional.cross_entropy(logits.reshape(-1, 4)[keep], y.reshape(-1)[keep])
    assert float(make_loss("ce")(logits, y)) == pytest.approx(float(expect), rel=1e-6)


def test_soft_cross_entropy_normalises_votes():
    logits = torch.tensor([[1.0, 0.0, -1.0]])
    votes = torch.tensor([[6.0, 2.0, 2.0]])  # -> 0.6, 0.2, 0.2
    logp = torch.log_softmax(logits.double(), 1)[0].numpy()
    expect = -(0.6 * logp[0] + 0.2 * logp[1] + 0.2 * logp[2])
    assert float(make_loss("soft_ce")(logits, votes)) == pytest.approx(expect, rel=1e-6)
    one_hot = torch.tensor([[0.0, 0.0, 1.0]])
    assert float(make_loss("soft_ce")(logits, one_hot)) == pytest.approx(-logp[2], rel=1e-6)


def test_mse_and_multitask_weights():
    pred_va = torch.tensor([[0.0, 0.5], [1.0, -0.5], [0.2, 0.1]])
    tgt_va = torch.tensor([[0.0, 0.0], [0.5, -0.5], [0.2, 0.3]])
    mse = ((0 + 0.25) + (0.25 + 0) + (0 + 0.04)) / 6
    assert float(make_loss("mse")(pred_va, tgt_va)) == pytest.approx(mse, rel=1e-5)
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    mt = make_loss("multitask", class_weight=0.5, va_weight=2.0, va_loss="mse")
    assert isinstance(mt, MultiTaskLoss)
    ce = float(torch.nn.functional.cross_entropy(logits, labels))
    both = mt({"logits": logits, "va": pred_va}, {"label": labels, "va": tgt_va})
    assert float(both) == pytest.approx(0.5 * ce + 2.0 * mse, rel=1e-5)
    only_va = mt({"logits": logits, "va": pred_va}, {"va": tgt_va})
    assert float(only_va) == pytest.approx(2.0 * mse, rel=1e-5)


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown loss"):
        make_loss("hinge")
