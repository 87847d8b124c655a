"""Put a trained frame model into the package: weights (.pt, state dict only), ONNX export, checksums, metrics
measured now on FER+ Valid, and a model card. `python -m emotrace.train.ship RUN_DIR` is how the default got in."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
import yaml

from emotrace.data.readers.ferplus import read_split
from emotrace.labels import EMOTIONS
from emotrace.models.registry import WEIGHTS_DIR, create_model, sha256
from emotrace.models.runtime import export_onnx
from emotrace.provenance import git_commit
from emotrace.train.frame import evaluate_ferplus


def ship_frame_model(run_dir: str | Path, name: str, data_root: str, trained_with: str,
                     default: bool = True) -> dict[str, Any]:
    run = Path(run_dir)
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    model = create_model(cfg["arch"], **cfg.get("arch_kwargs", {}))
    weights = run / "final.pt" if (run / "final.pt").is_file() else run / "best.pt"
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model.eval()
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    pt, onnx = WEIGHTS_DIR / f"{name}.pt", WEIGHTS_DIR / f"{name}.onnx"
    torch.save(model.state_dict(), pt)
    export_onnx(model, str(onnx), input_size=model.input_size)

    ev = evaluate_ferplus(model, read_split(data_root, "valid"))
    man_path = WEIGHTS_DIR / "manifest.json"
    man = json.loads(man_path.read_text()) if man_path.is_file() else {}
    metrics = {
        "ferplus_valid_acc_7class_plurality": ev["ferplus7"]["accuracy"],
        "ferplus_valid_uar_7class": ev["ferplus7"]["uar"],
        "ferplus_valid_macro_f1_7class": ev["ferplus7"]["macro_f1"],
        "ferplus_valid_n": ev["ferplus7"]["n"],
        "ferplus_valid_acc_7class_majority": ev["ferplus_majority7"]["accuracy"],
        "ferplus_valid_uar_7class_majority": ev["ferplus_majority7"]["uar"],
        "ferplus_valid_n_7class_majority": ev["ferplus_majority7"]["n"],
        "fer2013_valid_acc_original_labels": ev["fer2013"]["accuracy"],
        "fer2013_valid_uar": ev["fer2013"]["uar"],
        "fer2013_valid_n": ev["fer2013"]["n"],
        "fer2013_valid_acc_main_head": ev["fer2013_main_head"]["accuracy"],
    }
    confusions = {"confusion_ferplus7": ev["ferplus7"]["confusion"],
                  "confusion_ferplus_majority7": ev["ferplus_majority7"]["confusion"],
                  "confusion_fer2013": ev["fer2013"]["confusion"]}
    if "ferplus_majority8" in ev:
        metrics.update({"ferplus_valid_acc_8class_majority": ev["ferplus_majority8"]["accuracy"],
                        "ferplus_valid_uar_8class_majority": ev["ferplus_majority8"]["uar"],
                        "ferplus_valid_n_8class_majority": ev["ferplus_majority8"]["n"]})
        confusions["confusion_ferplus_majority8"] = ev["ferplus_majority8"]["confusion"]
    if "va" in ev:
        metrics.update({"va_proxy_ccc_valence": ev["va"]["valence"]["ccc"],
                        "va_proxy_ccc_arousal": ev["va"]["arousal"]["ccc"],
                        "va_proxy_mean_ccc": ev["va"]["mean_ccc"]})
    classes = list(EMOTIONS) + (["contempt"] if cfg.get("include_contempt") else [])
    record = {
        "role": "frame", "default": default, "arch": cfg["arch"], "arch_kwargs": cfg.get("arch_kwargs", {}),
        "classes": classes, "input_size": model.input_size, "input": "aligned gray face, FER template",
        "embedding_dim": model.embedding_dim, "valence_arousal": bool(cfg.get("va_head")),
        "fer2013_head": bool(cfg.get("fer2013_head")),
        "file": pt.name, "sha256": sha256(pt), "onnx_file": onnx.name, "onnx_sha256": sha256(onnx),
        "size_bytes": pt.stat().st_size + onnx.stat().st_size,
        "trained_with": trained_with, "weights_from": weights.name,
        "train_config": cfg, "commit": git_commit(),
        "metrics": metrics, **confusions,
        "data_licence": "FER2013 / FER+ labels: research use only",
    }
    if default:
        for other in man.values():
            if other.get("role") == "frame":
                other["default"] = False
    man[name] = record
    tmp = man_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(man, indent=2) + "\n")
    os.replace(tmp, man_path)
    shutil.copy(run / "metrics.csv", WEIGHTS_DIR / f"{name}.training-log.csv")
    return record


def ship_temporal_model(run_dir: str | Path, name: str, trained_with: str, metrics: dict[str, Any],
                        default: bool = True) -> dict[str, Any]:
    """Put a trained temporal run (`final.pt`, `config.yaml`) into the package, tied to its frame model."""
    from emotrace.models.export import export_temporal_onnx

    run = Path(run_dir)
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    frame_rec = json.loads((WEIGHTS_DIR / "manifest.json").read_text())[cfg["frame_model"]]
    arch_kwargs = {"input_dim": int(frame_rec["embedding_dim"]), **cfg.get("arch_kwargs", {})}
    model = create_model(cfg["arch"], **arch_kwargs)
    model.load_state_dict(torch.load(run / "final.pt", map_location="cpu", weights_only=True))
    model.eval()
    pt, onnx = WEIGHTS_DIR / f"{name}.pt", WEIGHTS_DIR / f"{name}.onnx"
    torch.save(model.state_dict(), pt)
    export_temporal_onnx(model, str(onnx))
    man_path = WEIGHTS_DIR / "manifest.json"
    man = json.loads(man_path.read_text())
    if default:
        for other in man.values():
            if other.get("role") == "temporal":
                other["default"] = False
    man[name] = {
        "role": "temporal", "default": default, "arch": cfg["arch"], "arch_kwargs": arch_kwargs,
        "classes": list(EMOTIONS), "frame_model": cfg["frame_model"],
        "input": f"embedding of {cfg['frame_model']} per frame of one track",
        "valence_arousal": bool(arch_kwargs.get("valence_arousal")),
        "file": pt.name, "sha256": sha256(pt), "onnx_file": onnx.name, "onnx_sha256": sha256(onnx),
        "size_bytes": pt.stat().st_size + onnx.stat().st_size,
        "trained_with": trained_with, "train_config": cfg, "commit": git_commit(), "metrics": metrics,
        "data_licence": "FER2013 / FER+ labels and CK+: research use only",
    }
    tmp = man_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(man, indent=2) + "\n")
    os.replace(tmp, man_path)
    return man[name]


def measure_temporal(name: str, ferplus_root: str, media: str, crossval_dir: str | None) -> dict[str, Any]:
    """The shipped temporal model's card numbers, measured through `evaluate_temporal` (what `emotrace evaluate`
    runs), plus the k-fold summary of a `--crossval` run; written into the manifest record."""
    from emotrace.eval.temporal import evaluate_temporal
    from emotrace.models.registry import manifest

    manifest.cache_clear()
    syn = evaluate_temporal(name, ferplus_root)
    flick = evaluate_temporal(name, media)
    metrics: dict[str, Any] = {
        "ferplus_valid_synthetic": {k: v for k, v in syn.items() if k not in ("model", "data", "kind")},
        "media_flicker": {k: v for k, v in flick.items() if k not in ("model", "data", "kind")},
    }
    if crossval_dir:
        metrics["ckplus_10fold"] = json.loads((Path(crossval_dir) / "crossval.json").read_text())
    man_path = WEIGHTS_DIR / "manifest.json"
    man = json.loads(man_path.read_text())
    man[name]["metrics"] = metrics
    tmp = man_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(man, indent=2, default=float) + "\n")
    os.replace(tmp, man_path)
    manifest.cache_clear()
    return metrics


def main() -> None:
    from emotrace.train.cards import write_cards

    ap = argparse.ArgumentParser(prog="python -m emotrace.train.ship")
    ap.add_argument("run_dir")
    ap.add_argument("--temporal", action="store_true", help="the run is a temporal model (train.temporal)")
    ap.add_argument("--name", help="shipped name (emotrace-cnn-m-ferplus / emotrace-gru-ferplus-ckplus)")
    ap.add_argument("--not-default", action="store_true", help="ship without making it the pipeline's default")
    ap.add_argument("--data-root", default="../shared/data/ferplus")
    ap.add_argument("--media", default="../shared/media", help="temporal: videos for the flicker measurement")
    ap.add_argument("--crossval", help="temporal: the --crossval run folder whose crossval.json to record")
    ap.add_argument("--trained-with", help="the command that trained the run, recorded in the manifest")
    args = ap.parse_args()
    if args.temporal:
        name = args.name or "emotrace-gru-ferplus-ckplus"
        ship_temporal_model(args.run_dir, name, args.trained_with or "emotrace train configs/temporal-gru.yaml", {},
                            default=not args.not_default)
        metrics = measure_temporal(name, args.data_root, args.media, args.crossval)
    else:
        name = args.name or "emotrace-cnn-m-ferplus"
        rec = ship_frame_model(args.run_dir, name, args.data_root,
                               args.trained_with or "emotrace train configs/frame-m.yaml",
                               default=not args.not_default)
        metrics = rec["metrics"]
    write_cards()
    print(json.dumps(metrics, indent=2, default=float)[:4000])


if __name__ == "__main__":
    main()
