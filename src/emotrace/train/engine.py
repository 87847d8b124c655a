"""The training engine: one loop for every model. A task (`train/tasks/`) supplies model, data, loss and metrics;
the engine owns the rest:

- optimiser (Adam, AdamW, SGD) and a per-step schedule (warm-up + cosine, one-cycle, step, plateau);
- bf16 autocast on CUDA, gradient clipping, an exponential moving average of the weights (evaluated and shipped);
- shuffling or balanced sampling from one seeded generator, augmentation drawing from the same generator;
- metrics.csv and TensorBoard every epoch, curves and a report at the end, early stopping;
- checkpoints: `last.pt` holds the whole state (model, optimiser, schedule, EMA, every random state, the epoch's
  order and the position in it), so a run stopped anywhere and resumed ends with the same weights as one that ran
  through; `best.pt` / `final.pt` are model checkpoints in the one format of `models/checkpoint.py`;
- data parallel training across processes (`torchrun`, or `emotrace train --nproc N`): gloo on CPU, NCCL on CUDA.
  Each process takes an equal share of every global batch, so N processes follow one process's run within noise.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emotrace.config import config_to_dict
from emotrace.errors import EmotraceError
from emotrace.eval.evaluation import Evaluation, write_evaluation
from emotrace.models.checkpoint import load_model, model_checkpoint, save_atomic
from emotrace.models.run_folder import RunFolder
from emotrace.provenance import git_commit
from emotrace.train.config import EngineConfig, dump_config
from emotrace.train.logbook import Logbook
from emotrace.train.tasks import create_task

log = logging.getLogger("emotrace")


# --------------------------------------------------------------------------------------------------- processes

class Dist:
    """This process's place in a data-parallel run (world 1 when run alone)."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))

    @property
    def main(self) -> bool:
        return self.rank == 0

    def init(self, device: torch.device) -> None:
        if self.world > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def close(self) -> None:
        if self.world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def pick_device(cfg: EngineConfig, dist: Dist) -> torch.device:
    if cfg.device == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    else:
        name = cfg.device
    if name == "cuda":
        if not torch.cuda.is_available():
            raise EmotraceError("device cuda asked for, but PyTorch sees no CUDA GPU here (use --set device=cpu)")
        return torch.device("cuda", dist.local_rank)
    if name != "cpu":
        raise EmotraceError(f"device must be auto, cpu or cuda, not {name!r}")
    return torch.device("cpu")


# ------------------------------------------------------------------------------------------------ optimisation

def make_optimizer(cfg: EngineConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    raise EmotraceError(f"optimizer must be adam, adamw or sgd, not {cfg.optimizer!r}")


def make_scheduler(cfg: EngineConfig, opt: torch.optim.Optimizer, steps_per_epoch: int) -> Any:
    total = max(1, cfg.epochs * steps_per_epoch)
    if cfg.scheduler == "none":
        return None
    if cfg.scheduler == "cosine":
        warm = int(round(cfg.warmup_epochs * steps_per_epoch))

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            t = min(1.0, (step - warm) / max(1, total - warm))
            return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t))

        return torch.optim.lr_scheduler.LambdaLR(opt, factor)
    if cfg.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=cfg.pct_start)
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, cfg.epochs // 3) * steps_per_epoch, gamma=0.1)
    if cfg.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=2)
    raise EmotraceError(f"scheduler must be none, cosine, onecycle, step or plateau, not {cfg.scheduler!r}")


class WeightEma:
    """Exponential moving average of a model's weights (float tensors averaged, buffers such as BatchNorm
    counters copied). The decay ramps up over the first steps, as timm's ModelEmaV2 does."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for e, v in zip(self.module.state_dict().values(), model.state_dict().values(), strict=True):
            if e.dtype.is_floating_point:
                e.mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                e.copy_(v)

    def state_dict(self) -> dict[str, Any]:
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"])
        self.updates = int(state["updates"])


LOWER_IS_BETTER = frozenset({"nll", "rmse"})  # validation metrics the engine minimises (it maximises the rest)


def metric_value(best_metric: str, ev: dict[str, float], train_loss: float) -> float:
    """The number early stopping and `best.pt` maximise: a validation metric, negated when lower is better
    (`nll`: Keras' default monitor, validation loss), or `loss`, the epoch's negated training loss."""
    if best_metric == "loss":
        return -train_loss
    value = ev.get(best_metric)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise EmotraceError(f"best_metric {best_metric!r} is not among the validation metrics "
                            f"({', '.join(sorted(ev))})")
    return -float(value) if best_metric in LOWER_IS_BETTER else float(value)


# ------------------------------------------------------------------------------------------------------ the loop

def train(cfg: EngineConfig, resume: bool = False, command: str = "",
          on_epoch_end: Callable[[int, dict[str, Any]], None] | None = None) -> Evaluation | None:
    """Run (or resume) one training run of `cfg.task`; returns the task's evaluation of the run's model (None
    when `max_steps` stopped the run before its end, and in every process but the first)."""
    dist = Dist()
    torch.set_num_threads(max(1, cfg.threads // dist.world))
    device = pick_device(cfg, dist)
    dist.init(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    try:
        return _train(cfg, resume, command, on_epoch_end, dist, device)
    finally:
        dist.close()


def _train(cfg: EngineConfig, resume: bool, command: str, on_epoch_end: Any, dist: Dist,
           device: torch.device) -> Evaluation | None:
    run = RunFolder(cfg.out_dir)
    commit = git_commit()  # now: run.json names the code that trained, not a commit made while it trained
    if cfg.ship_checkpoint not in ("best", "final"):
        raise EmotraceError(f"ship_checkpoint must be best or final, not {cfg.ship_checkpoint!r}")
    if dist.main:
        run.path.mkdir(parents=True, exist_ok=True)
        run.config.write_text(dump_config(cfg))
    task = create_task(cfg)
    task.setup(device)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    model = task.build_model()
    if cfg.init_from:
        model.load_state_dict(load_model(cfg.init_from).model.state_dict())
        log.info("weights from %s", cfg.init_from)
    model = model.to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    n = task.rows_per_epoch()
    if task.train_size() == 0:
        raise EmotraceError(f"{cfg.name}: no training rows")
    steps_per_epoch = max(1, math.ceil(n / cfg.batch_size))
    opt = make_optimizer(cfg, model)
    sched = make_scheduler(cfg, opt, steps_per_epoch)
    ema = WeightEma(model, cfg.ema_decay) if cfg.ema_decay else None
    use_amp = cfg.amp and device.type == "cuda"
    gen = torch.Generator().manual_seed(cfg.seed)
    best_metric = task.default_best_metric if cfg.best_metric == "auto" else cfg.best_metric
    state: dict[str, Any] = {"epoch": 0, "step": 0, "order": None, "best": {"epoch": -1, "value": -math.inf},
                             "stale": 0, "global_step": 0, "seconds": 0.0}
    last = run.last
    if resume and last.is_file():
        ck = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        if sched is not None and ck.get("sched") is not None:
            sched.load_state_dict(ck["sched"])
        if ema is not None and ck.get("ema") is not None:
            ema.load_state_dict(ck["ema"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        np.random.set_state(ck["numpy_rng"])
        if ck.get("cuda_rng") is not None and device.type == "cuda":
            torch.cuda.set_rng_state_all(ck["cuda_rng"])
        state = ck["state"]
        log.info("resumed at epoch %d, step %d", state["epoch"] + 1, state["step"])
    elif resume:
        log.info("no %s in %s: starting fresh", last.name, run.path)
    train_model: torch.nn.Module = model
    if dist.world > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    logbook = Logbook(run, fresh=state["epoch"] == 0 and state["step"] == 0) if dist.main else None
    weights = task.sample_weights()

    def save_state() -> None:
        if not dist.main:
            return
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(),
                     "sched": None if sched is None else sched.state_dict(),
                     "ema": None if ema is None else ema.state_dict(), "gen": gen.get_state(),
                     "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state(),
                     "cuda_rng": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
                     "state": state}, last)

    def checkpoint(path: Path, epoch: int) -> None:
        if dist.main:
            m = eval_model()
            save_atomic(model_checkpoint(m, cfg.task, cfg.arch, task.arch_kwargs(), task.contract(m),
                                         config_to_dict(cfg), epoch), path)

    def eval_model() -> torch.nn.Module:
        return ema.module if ema is not None else model

    log.info("%s (%s): %d training rows, %d steps/epoch, device %s, %d process(es)", cfg.name, cfg.task, n,
             steps_per_epoch, device, dist.world)
    stopped_by_max_steps = False
    early = False
    while state["epoch"] < cfg.epochs:
        epoch = state["epoch"]
        if state["order"] is None:
            if weights is not None:
                order = torch.multinomial(torch.as_tensor(weights, dtype=torch.double), n, replacement=True,
                                          generator=gen)
            else:
                order = torch.randperm(task.train_size(), generator=gen)[:n]
            state.update(order=order.numpy(), step=0, loss_sum=0.0, seen=0, t0=time.time())
        model.train()
        t_epoch = time.perf_counter()
        while state["step"] < steps_per_epoch:
            i = state["step"]
            idx = state["order"][i * cfg.batch_size:(i + 1) * cfg.batch_size]
            local = idx[dist.rank::dist.world]
            if len(local) == 0:
                state["step"] += 1
                continue
            batch = task.batch(local, gen)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = task.loss(train_model, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            if sched is not None and not isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                sched.step()
            if ema is not None:
                ema.update(model)
            state["loss_sum"] += float(loss.detach()) * len(local)
            state["seen"] += len(local)
            state["step"] += 1
            state["global_step"] += 1
            if cfg.max_steps and state["global_step"] >= cfg.max_steps and not (
                    state["step"] >= steps_per_epoch and epoch == cfg.epochs - 1):
                stopped_by_max_steps = True
                break
            if cfg.checkpoint_every and state["global_step"] % cfg.checkpoint_every == 0:
                save_state()
        state["seconds"] += time.perf_counter() - t_epoch
        if stopped_by_max_steps:
            save_state()
            log.info("stopped after %d steps (max_steps); resume with --resume", state["global_step"])
            break
        ev = task.validate(eval_model())
        value = metric_value(best_metric, ev, state["loss_sum"] / max(1, state["seen"]))
        if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(value)
        row = {"epoch": epoch, "train_loss": state["loss_sum"] / max(1, state["seen"]),
               "lr": opt.param_groups[0]["lr"], "rows_per_s": state["seen"] * dist.world / max(
                   1e-9, time.perf_counter() - t_epoch), **{f"valid_{k}": v for k, v in ev.items()}}
        if value > state["best"]["value"]:
            state["best"] = {"epoch": epoch, "value": float(value), "metric": best_metric}
            state["stale"] = 0
            checkpoint(run.best, epoch)
        else:
            state["stale"] += 1
        if logbook is not None:
            logbook.write(row)
        state["epoch"] += 1
        state["order"] = None
        early = bool(cfg.early_stopping and state["stale"] >= cfg.early_stopping)
        if early or state["epoch"] == cfg.epochs:
            checkpoint(run.final, epoch)
        save_state()
        log.info("epoch %d/%d loss %.4f valid %s %.4f (%.0f rows/s)", epoch + 1, cfg.epochs, row["train_loss"],
                 best_metric, value, row["rows_per_s"])
        if on_epoch_end is not None and dist.main:
            on_epoch_end(epoch, row)
        if early:
            log.info("early stopping: no better %s for %d epochs", best_metric, state["stale"])
            break
    if logbook is not None:
        logbook.close()
    if stopped_by_max_steps:
        return None
    dist.barrier()
    if not dist.main:
        return None
    return _finish(cfg, task, run, state, early, best_metric, device, dist.world, command, commit)


def _finish(cfg: EngineConfig, task: Any, run: RunFolder, state: dict[str, Any], early: bool, best_metric: str,
            device: torch.device, world: int, command: str, commit: str) -> Evaluation:
    """run.json, the prior a shipped model may need, and the task's evaluation of the run's model, written."""
    run_info = {
        "task": cfg.task, "checkpoint": getattr(run, cfg.ship_checkpoint).name, "epochs_done": state["epoch"],
        "best_epoch": state["best"]["epoch"] + 1, "best_metric": best_metric, "early_stopped": early,
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "processes": world, "threads": cfg.threads, "train_rows": task.train_size(),
        "train_seconds": round(state["seconds"], 1), "command": command, "commit": commit,
    }
    run.write_info(run_info)
    prior = task.training_prior()
    if prior is not None:
        run.save_prior(*prior)
    final = load_model(run.path)
    final.model.to(device)
    ev = task.evaluate(final)
    ev.metrics["run"] = run_info
    write_evaluation(run.path, ev, command, config=config_to_dict(cfg), metrics_csv=run.log)
    return ev
