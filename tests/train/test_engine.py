"""The engine: exact resume from anywhere (mid-epoch, with EMA and a warm-up schedule), schedules, EMA, config
overrides, and data-parallel training in two CPU processes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from emotrace.cli import main
from emotrace.train.config import EngineConfig
from emotrace.train.engine import WeightEma, make_optimizer, make_scheduler, train
from emotrace.train.resolve import load_train_config, parse_set
from emotrace.train.tasks.classify import ClassifyConfig
from tests.helpers import REPO
from tests.train.test_run import _pattern_dataset


def _cfg(tmp_path: Path, out: str, **kw: object) -> ClassifyConfig:
    data = tmp_path / "data"
    if not data.exists():
        _pattern_dataset(data)
    base = dict(name="toy", arch="emotrace-cnn-s", arch_kwargs={"num_classes": 7, "widths": [8, 16, 16, 32]},
                data=str(data), split="fixed", fixed_sizes=(32, 8), by_subject=False, align="never", epochs=3,
                batch_size=8, lr=3e-3, optimizer="adamw", scheduler="cosine", warmup_epochs=0.5, grad_clip=1.0,
                ema_decay=0.9, threads=1, out_dir=str(tmp_path / out))
    base.update(kw)
    return ClassifyConfig(**base)  # type: ignore[arg-type]


def _weights(run: Path) -> dict[str, torch.Tensor]:
    ck = torch.load(run / "last.pt", weights_only=False)
    return {**{f"m.{k}": v for k, v in ck["model"].items()},
            **{f"ema.{k}": v for k, v in ck["ema"]["module"].items()}}


def test_stopped_mid_epoch_and_resumed_equals_uninterrupted(tmp_path):
    full = _cfg(tmp_path, "full")
    train(full, command="test")
    part = _cfg(tmp_path, "part", max_steps=6)  # 4 steps per epoch: stops in the middle of epoch 2
    assert train(part, command="test") is None
    assert not (tmp_path / "part" / "run.json").exists()
    state = torch.load(tmp_path / "part" / "last.pt", weights_only=False)["state"]
    assert (state["epoch"], state["step"]) == (1, 2)
    resumed = _cfg(tmp_path, "part")
    ev = train(resumed, resume=True, command="test")
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "part")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert ev.metrics["accuracy"] == json.loads((tmp_path / "full" / "metrics.json").read_text())["accuracy"]
    rows = (tmp_path / "part" / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3
    info = json.loads((tmp_path / "part" / "run.json").read_text())
    assert info["task"] == "classify" and info["epochs_done"] == 3 and info["device"] == "cpu"


def test_warmup_cosine_schedule_and_onecycle():
    cfg = EngineConfig(lr=1.0, epochs=4, scheduler="cosine", warmup_epochs=1, min_lr_ratio=0.1)
    model = torch.nn.Linear(2, 2)
    opt = make_optimizer(cfg, model)
    sched = make_scheduler(cfg, opt, steps_per_epoch=10)
    lrs = []
    for _ in range(40):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)  # linear warm-up over the first epoch
    assert lrs[10] == pytest.approx(1.0)
    assert lrs[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 29 / 30)))
    assert all(x >= y for x, y in zip(lrs[10:], lrs[11:], strict=False))  # then only down
    with pytest.raises(Exception, match="scheduler must be"):
        make_scheduler(EngineConfig(scheduler="bogus"), opt, 10)


def test_weight_ema_averages_and_copies_buffers():
    model = torch.nn.BatchNorm1d(2)
    ema = WeightEma(model, decay=0.5)
    with torch.no_grad():
        model.weight.fill_(3.0)
    model.num_batches_tracked.fill_(7)
    ema.update(model)  # decay ramps: min(0.5, 2/11)
    d = 2 / 11
    assert torch.allclose(ema.module.weight, torch.full((2,), d * 1.0 + (1 - d) * 3.0))
    assert int(ema.module.num_batches_tracked) == 7


def test_set_overrides_and_dry_run(tmp_path, capsys):
    assert parse_set(["lr=0.01", "arch_kwargs.hidden=64", "betas=[0.8, 0.9]", "augment=false"]) == {
        "lr": 0.01, "arch_kwargs": {"hidden": 64}, "betas": [0.8, 0.9], "augment": False}
    cfg = load_train_config(REPO / "configs" / "temporal-gru.yaml", parse_set(["arch_kwargs.hidden=64", "lr=0.01"]))
    assert cfg.arch_kwargs == {"hidden": 64, "valence_arousal": True} and cfg.lr == 0.01
    code = main(["train", str(REPO / "configs" / "frame-m.yaml"), "--dry-run", "--set", "ema_decay=0.999",
                 "--epochs", "3"])
    assert code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["task"] == "frame" and printed["ema_decay"] == 0.999 and printed["epochs"] == 3
    assert main(["train", str(REPO / "configs" / "frame-m.yaml"), "--dry-run", "--set", "bogus=1"]) == 2
    assert "unknown config keys for task frame: bogus" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("arch: emotrace-cnn-s\n")
    assert main(["train", str(bad), "--dry-run"]) == 2
    assert "`task:` must be one of" in capsys.readouterr().err


@pytest.mark.slow
def test_two_processes_train_like_one(tmp_path):
    """DDP over gloo: each process takes half of every global batch; the run matches one process within noise."""
    one = _cfg(tmp_path, "one", epochs=4, ema_decay=0.0, augment=False, scheduler="none")
    one.arch_kwargs = {**one.arch_kwargs, "dropout": 0.0}
    train(one, command="test")
    cfg_path = tmp_path / "two.yaml"
    from emotrace.config import config_to_dict

    two = config_to_dict(one)
    two["out_dir"] = str(tmp_path / "two")
    cfg_path.write_text(yaml.safe_dump(two))
    res = subprocess.run([sys.executable, "-m", "emotrace.cli", "-q", "train", str(cfg_path), "--nproc", "2"],
                         capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    info = json.loads((tmp_path / "two" / "run.json").read_text())
    assert info["processes"] == 2
    m1 = json.loads((tmp_path / "one" / "metrics.json").read_text())
    m2 = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert m2["accuracy"] == pytest.approx(m1["accuracy"], abs=0.25)
    w1 = torch.load(tmp_path / "one" / "final.pt", weights_only=False)["state_dict"]
    w2 = torch.load(tmp_path / "two" / "final.pt", weights_only=False)["state_dict"]
    # Batch-norm statistics are per process (half batches), so weights differ by noise, not by a different run.
    keys = [k for k in w1 if w1[k].dtype.is_floating_point and "running_" not in k]
    diff = torch.cat([(w1[k] - w2[k]).flatten() for k in keys]).norm()
    rel = float(diff / torch.cat([w1[k].flatten() for k in keys]).norm())
    assert rel < 0.25, rel


def test_exactly_one_module_calls_backward():
    src = REPO / "src" / "emotrace"
    callers = sorted(str(p.relative_to(src)) for p in src.rglob("*.py") if ".backward(" in p.read_text())
    assert callers == ["train/engine.py"]


def test_metric_value_minimises_validation_loss():
    """Early stopping and best.pt maximise the value: validation nll and rmse are negated, `loss` is the
    negated training loss, an unknown name is refused."""
    from emotrace.errors import EmotraceError
    from emotrace.train.engine import metric_value

    ev = {"accuracy": 0.5, "nll": 1.2, "rmse": 0.3}
    assert metric_value("accuracy", ev, 2.0) == 0.5
    assert metric_value("nll", ev, 2.0) == -1.2
    assert metric_value("rmse", ev, 2.0) == -0.3
    assert metric_value("loss", ev, 2.0) == -2.0
    with pytest.raises(EmotraceError):
        metric_value("ccc", ev, 2.0)


def test_validation_nll_is_the_mean_cross_entropy_of_labelled_rows():
    import numpy as np

    from emotrace.train.tasks.classify import validation_nll

    probs = np.array([[0.5, 0.5], [0.25, 0.75], [0.9, 0.1]])
    y = np.array([0, 1, -1])  # the unlabelled row is left out
    assert validation_nll(probs, y) == pytest.approx(-(np.log(0.5) + np.log(0.75)) / 2)


def test_run_json_names_the_commit_the_training_started_from(tmp_path, monkeypatch):
    """A commit made while a run trains is not the code that trained it."""
    from emotrace.train import engine

    commits = iter(["started-here", "committed-meanwhile"])
    monkeypatch.setattr(engine, "git_commit", lambda: next(commits))
    train(_cfg(tmp_path, "run", epochs=1), command="test")
    assert json.loads((tmp_path / "run" / "run.json").read_text())["commit"] == "started-here"
