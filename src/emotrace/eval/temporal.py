"""Evaluate a shipped temporal model the way its model card reports it, on whichever data is given:

- a folder of videos (`../shared/media`): label flicker per track through the full pipeline (`eval.flicker`);
- FER+: the Valid sequences rendered with the seed and sizes recorded in the model's training config
  (per-frame accuracy, flicker, frames to follow a change, valence/arousal proxy CCC);
- CK+: the fixed CK+ test clips of every subject. The shipped model saw every CK+ subject in training, so this is
  a seen-subject number; the subject-independent one comes from `emotrace train CONFIG --crossval`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emotrace.errors import EmotraceError
from emotrace.eval.evaluation import Evaluation


def evaluate_temporal(loaded: Any, data: str | Path) -> dict[str, Any]:
    """The model card's numbers for temporal model `loaded` (a `LoadedModel`) on `data` (see the module
    docstring)."""
    from emotrace.data.proxies import va_from_distribution
    from emotrace.data.readers import detect_format
    from emotrace.data.rendered import ckplus_subjects, ckplus_test_clips, ferplus_sequences
    from emotrace.eval.flicker import flicker, videos_in
    from emotrace.eval.metrics import regression_metrics
    from emotrace.eval.sequence_features import (
        SequenceFeatures,
        ckplus_scores,
        feature_cache_dir,
        feature_file,
        featurise,
        read_signals,
        run_sequences,
        signals_file,
    )
    from emotrace.eval.sequences import sequence_metrics
    from emotrace.models.runtime import FrameModelRunner

    name = loaded.ref
    path = Path(data)
    if not path.exists():
        raise EmotraceError(f"data not found: {path}")
    videos = videos_in(path) if path.is_dir() else [path]
    try:
        fmt = detect_format(str(path))
    except EmotraceError:
        fmt = None
    if fmt not in ("ferplus", "ckplus") and videos:
        res = flicker(videos, temporal=name)
        return {"model": name, "data": str(path), "kind": "flicker", **res}
    if loaded.task != "temporal":
        raise EmotraceError(f"{name} is not a temporal model")
    model, cfg = loaded.model, loaded.config
    runner = FrameModelRunner(loaded.frame_model, runtime="auto", threads=2)
    if fmt == "ferplus":
        # The Valid sequences as the training run cached them (same seed, sizes and frame model, so the same
        # numbers) where that cache is on this machine; rendered again otherwise.
        n, length, seed = int(cfg["ferplus_valid_sequences"]), int(cfg["length"]), int(cfg["seed"])
        cached = feature_cache_dir(cfg) / feature_file("fer_valid", cfg)
        use_cache = bool(cfg.get("out_dir")) and cached.is_file()
        signals = cached.with_name(signals_file("fer_valid", cfg))

        def rendered() -> list[Any]:
            return ferplus_sequences(str(path), "valid", n, length, seed + 1)

        sequences = None if use_cache else rendered()
        feats = SequenceFeatures.load(cached) if sequences is None else featurise(sequences, runner)
        if cfg.get("signals"):  # a model trained with the face signals beside the embedding reads them too
            feats.signals = (np.load(signals)["signals"] if use_cache and signals.is_file() else
                             read_signals(sequences or rendered()))
        out = run_sequences(model, feats)
        res = sequence_metrics(feats.frame_probs, out["probs"], feats.labels, feats.change_points, fps=25.0)
        if "valence_arousal" in out:
            m = feats.mask
            res["va_proxy"] = regression_metrics(out["valence_arousal"][m], va_from_distribution(feats.targets[m]))
        return {"model": name, "data": str(path), "kind": "ferplus_valid_synthetic", **res}
    if fmt in ("ckplus", "ckplus48"):  # the CK+ root or its CK+48 folder
        subjects = ckplus_subjects(str(path))
        clips, labels = ckplus_test_clips(subjects, int(cfg["seed"]))
        feats = featurise(clips, runner)
        if cfg.get("signals"):
            feats.signals = read_signals(clips)
        res = ckplus_scores(model, feats, labels)
        return {"model": name, "data": str(path), "kind": "ckplus_seen_subjects", **res}
    raise EmotraceError(f"{path}: a temporal model is evaluated on a folder of videos, FER+ or CK+")


def flat_summary(res: dict[str, Any]) -> dict[str, float | int | str]:
    """The headline numbers of `evaluate_temporal`'s result, flat, for printing."""
    keys = ("frame_changes_per_s", "temporal_changes_per_s", "ema_changes_per_s", "frame_over_temporal_ratio",
            "track_seconds", "tracks_scored", "temporal_last_frame_accuracy", "frame_last_frame_accuracy",
            "sequences")
    out: dict[str, float | int | str] = {k: res[k] for k in keys if k in res and res[k] is not None}
    for model in ("frame", "temporal"):
        scores = res.get(model)
        if isinstance(scores, dict):
            out.update({f"{model}_{k}": v for k, v in scores.items()
                        if isinstance(v, (int, float)) and not isinstance(v, bool)})
    if "va_proxy" in res:
        out["va_proxy_mean_ccc"] = res["va_proxy"]["mean_ccc"]
    if "per_frame" in res:
        for model in ("frame", "temporal"):
            out[f"{model}_per_frame_accuracy"] = res["per_frame"][model]["frame_accuracy"]
    return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in out.items()}


def temporal_evaluation(loaded: Any, data: str | Path) -> Evaluation:
    """`evaluate_temporal` as an `Evaluation`."""
    res = evaluate_temporal(loaded, data)
    return Evaluation(res, title=f"{loaded.ref} on {data} ({res['kind']})", headline=flat_summary(res))
