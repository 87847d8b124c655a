"""`emotrace train | evaluate | export | ship`: the model commands. They parse and call the training engine, the
evaluator, the exporter and the shipper; every run folder works with all four."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from emotrace.errors import EmotraceError, print_error


def _train_args(t: argparse.ArgumentParser) -> None:
    t.add_argument("config", help="YAML config naming its task (frame, classify, temporal, distill)")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", dest="overrides",
                   help="override any config field (repeatable; values as YAML, dotted keys into dicts)")
    t.add_argument("--dry-run", action="store_true", help="print the resolved config and stop")
    t.add_argument("--resume", action="store_true", help="continue from the run's last.pt")
    t.add_argument("--nproc", type=int, default=1, help="data-parallel processes (torchrun; gloo on CPU, NCCL on GPU)")
    t.add_argument("--epochs", type=int, help="shorthand for --set epochs=N")
    t.add_argument("--max-train", type=int, help="shorthand for --set max_train=N (short runs)")
    t.add_argument("--max-eval", type=int, help="shorthand for --set max_eval=N")
    t.add_argument("--fold", type=int, help="shorthand for --set fold=K")
    t.add_argument("--out-dir", help="shorthand for --set out_dir=DIR")
    t.add_argument("--device", help="shorthand for --set device=cpu|cuda")
    t.add_argument("--crossval", action="store_true",
                   help="temporal configs: subject-independent k-fold on CK+, one model per fold")


def add_model_parsers(sub: Any) -> None:
    """Add train, evaluate, export and ship to the `emotrace` command's subparsers."""
    from emotrace.cli_data import _reader_args

    t = sub.add_parser("train", help="train a model from a YAML config (one engine for every task)")
    _train_args(t)
    t.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="evaluate a shipped model or any training run on any dataset folder")
    ev.add_argument("model", help="'default', a shipped weights name, or a training run folder / checkpoint")
    _reader_args(ev, data_help="; omitted for a run: the run's own evaluation data, scored as its training did")
    ev.add_argument("--split", default="all", help="the dataset's split to score (train, valid, test; default all; "
                                                   "FER+ default valid)")
    ev.add_argument("--restrict", action="store_true", help="only let the model choose classes the data has")
    ev.add_argument("--photos", action="store_true",
                    help="score a photo set (CK+, TFEID, SFEW, class folders) through the pipeline a user runs "
                         "(detector, crop fallback, alignment, calibration); --split holdout: only the groups "
                         "a mix run held out (its fraction and seed)")
    ev.add_argument("--out", help="folder for metrics.json, confusion matrix and report")
    ev.set_defaults(func=cmd_evaluate)

    e = sub.add_parser("export", help="export shipped weights or any training run to ONNX (checked against PyTorch)")
    e.add_argument("model", help="shipped weights name, or a training run folder / checkpoint")
    e.add_argument("--onnx", required=True, help="output .onnx path")
    e.set_defaults(func=cmd_export)

    s = sub.add_parser("ship", help="put a training run into the package: weights, ONNX, checksums, metrics, card")
    s.add_argument("run", help="training run folder")
    s.add_argument("--name", required=True, help="shipped name, e.g. emotrace-cnn-m-ferplus")
    s.add_argument("--not-default", action="store_true", help="ship without making it the pipeline's default")
    s.add_argument("--data-root", default="../shared/data/ferplus", help="FER+ root for the card's metrics")
    s.add_argument("--media", default="../shared/media", help="temporal: videos for the flicker measurement")
    s.add_argument("--crossval", help="temporal: a --crossval run folder whose crossval.json to record")
    s.add_argument("--half", action="store_true", help="store the .pt weights in float16 (half the bytes)")
    s.add_argument("--prior-shift", type=float, default=0.0,
                   help="mix runs: add S * log(training prior) to the main head's bias (0 balanced, 1 prior-weighted)")
    s.set_defaults(func=cmd_ship)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    from emotrace.train.resolve import parse_set

    over = parse_set(args.overrides)
    for key in ("epochs", "max_train", "max_eval", "fold", "out_dir", "device"):
        value = getattr(args, key, None)
        if value is not None:
            over[key] = value
    return over


def cmd_train(args: argparse.Namespace) -> int:
    from emotrace.train.config import dump_config
    from emotrace.train.resolve import load_train_config

    cfg = load_train_config(args.config, _overrides(args))
    if args.dry_run:
        print(dump_config(cfg), end="")
        return 0
    from emotrace.provenance import command_argv, command_line

    command = os.environ.get("EMOTRACE_COMMAND") or command_line()
    if args.nproc > 1:
        argv = command_argv()
        if args.crossval:
            raise EmotraceError("--crossval runs its folds one after another; use it without --nproc")
        tail = argv[argv.index("train") + 1:]
        rest = [a for i, a in enumerate(tail) if not (a == "--nproc" or a.startswith("--nproc=")
                                                      or (i > 0 and tail[i - 1] == "--nproc"))]
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={args.nproc}",
               "-m", "emotrace.cli_train", *rest]
        return subprocess.call(cmd, env={**os.environ, "EMOTRACE_COMMAND": command})
    if args.crossval:
        from emotrace.train.crossval import crossvalidate
        from emotrace.train.tasks.temporal import TemporalConfig

        if not isinstance(cfg, TemporalConfig):
            raise EmotraceError("--crossval is for temporal configs (CK+ subject k-fold, one model per fold)")
        summary = crossvalidate(cfg, command=command)
        print(f"CK+ {cfg.kfold}-fold, {summary['sequences']} sequences: temporal "
              f"{summary['temporal_accuracy']:.4f}, frame model alone {summary['frame_accuracy']:.4f}; "
              f"report in {cfg.out_dir}")
        return 0
    from emotrace.eval.evaluation import print_headline
    from emotrace.train.engine import train

    ev = train(cfg, resume=args.resume, command=command)
    if ev is None:
        print(f"stopped early (max_steps); resume with: {command} --resume")
        return 0
    print_headline(ev)
    written = sorted(p.name for p in Path(cfg.out_dir).iterdir() if not p.name.startswith("."))
    print(f"run folder {cfg.out_dir}: {', '.join(written)}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Any model on any dataset, scored by the evaluation of the task that trained it (run.json / manifest)."""
    from emotrace.eval.evaluation import print_headline, write_evaluation
    from emotrace.models.checkpoint import load_model
    from emotrace.models.runtime import default_frame_model
    from emotrace.provenance import command_line
    from emotrace.train.tasks import EvalRequest, task_for

    command = command_line()
    loaded = load_model(default_frame_model() if args.model == "default" else args.model)
    if args.data is None and loaded.shipped:
        raise EmotraceError(f"{loaded.ref} is shipped weights: name the dataset to score it on")
    options = {"label_mode": args.label_mode, "include_contempt": args.include_contempt,
               "drop_surprise": args.drop_surprise, "calm_as_neutral": args.calm_as_neutral}
    request = EvalRequest(split=args.split, photos=args.photos, restrict=args.restrict, data_format=args.format,
                          options=options)
    ev = task_for(loaded).evaluate(loaded, args.data, request)
    print_headline(ev)
    if args.out:
        write_evaluation(args.out, ev, command)
        print(f"wrote {Path(args.out) / 'metrics.json'} and the report")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from emotrace.models.checkpoint import load_model
    from emotrace.models.export import export_checked

    gap = export_checked(load_model(args.model), args.onnx)
    print(f"wrote {args.onnx} (largest |ONNX - PyTorch| on a random input: {gap:.1e})")
    return 0


def cmd_ship(args: argparse.Namespace) -> int:
    from emotrace.train.ship import ship_run

    rec = ship_run(args.run, args.name, default=not args.not_default, data_root=args.data_root, media=args.media,
                   crossval_dir=args.crossval, half=args.half,
                   prior_shift=args.prior_shift)
    print(f"shipped {rec.name} ({rec.role}, {rec.size_bytes / 1e6:.1f} MB) into {Path(rec.file).name} and "
          f"{rec.onnx_file}; card {rec.name}.md")
    print(json.dumps(rec.metrics, indent=2, default=float)[:3000])
    return 0


def train_main(argv: list[str]) -> int:
    """`python -m emotrace.cli_train` (one process of a torchrun job, or a plain single-process run)."""
    p = argparse.ArgumentParser(prog="python -m emotrace.cli_train")
    _train_args(p)
    args = p.parse_args(argv)
    from emotrace.provenance import set_command

    set_command(["python", "-m", "emotrace.cli_train", *argv])
    logging.basicConfig(level=logging.INFO, format="emotrace: %(message)s")
    try:
        return cmd_train(args)
    except EmotraceError as exc:
        print_error(str(exc))
        return 2


if __name__ == "__main__":  # torchrun starts `python -m emotrace.cli_train CONFIG ...` once per process
    sys.exit(train_main(sys.argv[1:]))
