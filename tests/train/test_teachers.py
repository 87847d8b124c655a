"""Distillation: teachers put in one balanced space whatever prior they were trained against, the ensemble's mean,
and the loss a student sees."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emotrace.errors import EmotraceError
from emotrace.models import create_model
from emotrace.train.tasks.teachers import Teachers, _offset

FER = np.array([0.05, 0.01, 0.02, 0.3, 0.1, 0.1, 0.4, 0.02])
MIX = np.array([0.1, 0.05, 0.05, 0.25, 0.1, 0.15, 0.28, 0.02])
STUDENT = {"data": "d", "extra": {"tfeid": "t"}, "exclude": [], "shares": {"ferplus": 0.5}, "include_contempt": True}


def test_each_kind_of_member_is_put_in_the_balanced_space():
    la = {**STUDENT, "balance": "logit_adjust"}
    assert np.allclose(_offset("fer", "frame", {}, 0.0, FER, MIX, STUDENT), -np.log(FER))
    assert np.allclose(_offset("la", "mix", la, 0.0, FER, MIX, STUDENT), 0)
    assert np.allclose(_offset("sampler", "mix", {**STUDENT, "balance": "sampler"}, 0.0, FER, MIX, STUDENT), 0)
    assert np.allclose(_offset("none", "mix", {**STUDENT, "balance": "none"}, 0.0, FER, MIX, STUDENT), -np.log(MIX))
    # shipped with --prior-shift 0.5: half the prior was put back into the head's bias, so it comes off again
    assert np.allclose(_offset("v2", "mix", la, 0.5, FER, MIX, STUDENT), -0.5 * np.log(MIX))


def test_the_same_folders_spelled_differently_are_the_same_mix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    spelled = {**STUDENT, "data": str(tmp_path / "d"), "extra": {"tfeid": str(tmp_path / "t")}, "balance": "none"}
    assert np.allclose(_offset("none", "mix", spelled, 0.0, FER, MIX, STUDENT), -np.log(MIX))


def test_a_member_whose_prior_is_another_mix_is_refused():
    other = {**STUDENT, "balance": "none", "shares": {"ferplus": 0.9}}
    with pytest.raises(EmotraceError, match="shares"):
        _offset("none", "mix", other, 0.0, FER, MIX, STUDENT)
    with pytest.raises(EmotraceError, match="not a frame model"):
        _offset("gru", "temporal", {}, 0.0, FER, MIX, STUDENT)


def _tiny() -> torch.nn.Module:
    return create_model("emotrace-cnn-s", num_classes=8, widths=[8, 8, 8, 16]).eval()


def test_the_ensemble_is_the_mean_of_its_members_probabilities_with_offsets_and_flip():
    torch.manual_seed(0)
    members = [_tiny(), _tiny()]
    offsets = np.stack([-np.log(FER), np.zeros(8)])
    teachers = Teachers(members, offsets, flip=True)
    x = torch.rand(5, 1, 48, 48)
    shift = torch.from_numpy(np.log(MIX)).float()
    with torch.no_grad():
        want = []
        for m, off in zip(members, offsets, strict=True):
            o = torch.from_numpy(off).float() + shift
            views = [torch.softmax((m(v)["logits"] + o) / 2, 1) for v in (x, x.flip(-1))]
            want.append((views[0] + views[1]) / 2)
        want = torch.stack(want).mean(0)
    got = teachers.log_probs(x, temperature=2.0, shift=shift, batch=2).exp()
    assert torch.allclose(got, want, atol=1e-6)
    assert all(not p.requires_grad for m in members for p in m.parameters())


def test_distillation_pulls_the_student_towards_its_teachers():
    """With the whole weight on the teachers, the loss is the KL to the teachers' mean softened probability, with
    the student's own prior (FER+'s, for a FER+ student) added to their balanced logits."""
    from emotrace.train.tasks.distill import DistillConfig, DistillTask

    torch.manual_seed(0)
    cfg = DistillConfig(arch="emotrace-cnn-s", arch_kwargs={"widths": [8, 8, 8, 16]}, distill_temperature=2.0,
                        distill_weight=1.0, teachers=["a", "b"], include_contempt=True)  # eight classes
    task = DistillTask(cfg)
    task.ferplus_prior = FER
    members = [_tiny(), _tiny()]
    task.teachers = Teachers(members, np.stack([-np.log(FER)] * 2))
    student = _tiny()
    x = torch.rand(4, 1, 48, 48)
    batch = {"x": x, "main": torch.full((4, 8), 1 / 8), "fer2013": torch.zeros(4, dtype=torch.long),
             "va": torch.zeros(4, 2)}
    with torch.no_grad():
        mean_t = torch.stack([torch.softmax(t(x)["logits"] / 2, 1) for t in members]).mean(0)
        want = torch.nn.functional.kl_div(torch.log_softmax(student(x)["logits"] / 2, 1), mean_t,
                                          reduction="batchmean") * 4
        got = task.loss(student, batch)
    assert float(got) == pytest.approx(float(want), rel=1e-4)


def test_distill_task_without_teachers_is_a_clear_error():
    from emotrace.train.tasks.distill import DistillConfig, DistillTask

    with pytest.raises(EmotraceError, match="needs teachers"):
        DistillTask(DistillConfig()).setup(torch.device("cpu"))
