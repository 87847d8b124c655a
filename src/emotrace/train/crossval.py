"""Subject-independent k-fold on CK+ for temporal configs: one engine run per fold (its test subjects never seen
in training), each scored on its held-out subjects' clips; finished folds are reused, so the k-fold resumes."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np

from emotrace.config import config_to_dict
from emotrace.errors import EmotraceError
from emotrace.eval.evaluation import Evaluation
from emotrace.eval.sequence_features import feature_cache_dir
from emotrace.models.run_folder import RunFolder, write_json_atomic
from emotrace.train.engine import train
from emotrace.train.tasks.temporal import TemporalConfig

log = logging.getLogger("emotrace")


def crossvalidate(cfg: TemporalConfig, command: str = "") -> dict[str, Any]:
    from emotrace.eval.report import write_report
    from emotrace.provenance import git_commit

    base = RunFolder(cfg.out_dir)
    folds = []
    correct = {"temporal": 0, "frame": 0}
    total = 0
    cache = str(feature_cache_dir(config_to_dict(cfg)))
    for k in range(cfg.kfold):
        fold = base.fold(k)
        fcfg = dataclasses.replace(cfg, fold=k, out_dir=str(fold.path), feature_cache=cache,
                                   arch_kwargs=dict(cfg.arch_kwargs))
        m = fold.finished_metrics() or _metrics(train(fcfg, resume=True, command=command))
        ck = m["ckplus_held_out"]
        folds.append({"fold": k, "sequences": ck["sequences"], "temporal": ck["temporal_last_frame_accuracy"],
                      "frame": ck["frame_last_frame_accuracy"], "frame_apex_mean": ck["frame_apex_mean_accuracy"]})
        correct["temporal"] += ck["correct"]["temporal"]
        correct["frame"] += ck["correct"]["frame"]
        total += ck["sequences"]
        log.info("fold %d: temporal %.4f frame %.4f", k, ck["temporal_last_frame_accuracy"],
                 ck["frame_last_frame_accuracy"])
    summary = {
        "kfold": cfg.kfold, "sequences": total,
        "temporal_accuracy": correct["temporal"] / max(total, 1),
        "frame_accuracy": correct["frame"] / max(total, 1),
        "temporal_mean_fold_accuracy": float(np.mean([f["temporal"] for f in folds])),
        "frame_mean_fold_accuracy": float(np.mean([f["frame"] for f in folds])),
        "frame_apex_mean_accuracy": float(np.mean([f["frame_apex_mean"] for f in folds])),
        "folds": folds,
    }
    write_json_atomic(base.crossval, summary)
    write_report(base.path, {k: v for k, v in summary.items() if k != "folds"},
                 title=f"{cfg.arch} on CK+ ({cfg.kfold}-fold, subject-independent) vs the frame model alone",
                 command=command or None, config=config_to_dict(cfg), commit=git_commit())
    return summary


def _metrics(ev: Evaluation | None) -> dict[str, Any]:
    if ev is None:
        raise EmotraceError("a fold stopped before its end (max_steps); run --crossval again to resume it")
    return ev.metrics
