"""Subject-independent k-fold on CK+ for temporal configs: one engine run per fold (its test subjects never seen
in training), each scored on its held-out subjects' clips; finished folds are reused, so the k-fold resumes."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from emotrace.config import config_to_dict
from emotrace.train.engine import train
from emotrace.train.tasks.temporal import TemporalConfig

log = logging.getLogger("emotrace")


def crossvalidate(cfg: TemporalConfig, command: str = "") -> dict[str, Any]:
    from emotrace.eval.report import write_report
    from emotrace.provenance import git_commit

    base = Path(cfg.out_dir)
    folds = []
    correct = {"temporal": 0, "frame": 0}
    total = 0
    cache = cfg.feature_cache or str(base / f"features-{cfg.frame_model}-{cfg.seed}")
    for k in range(cfg.kfold):
        fcfg = dataclasses.replace(cfg, fold=k, out_dir=str(base / f"fold{k}"), feature_cache=cache,
                                   arch_kwargs=dict(cfg.arch_kwargs))
        done = Path(fcfg.out_dir) / "metrics.json"
        m = json.loads(done.read_text()) if done.is_file() else train(fcfg, resume=True, command=command)
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
    (base / "crossval.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_report(base, {k: v for k, v in summary.items() if k != "folds"},
                 title=f"{cfg.arch} on CK+ ({cfg.kfold}-fold, subject-independent) vs the frame model alone",
                 command=command or None, config=config_to_dict(cfg), commit=git_commit())
    return summary
