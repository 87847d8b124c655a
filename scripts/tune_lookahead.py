"""Choose the look-ahead decoder's settings (models/temporal/filters.py LOOKAHEAD) on rendered FER+ *Train*
sequences (never on the Valid sequences or the videos the benchmark reports):

    python scripts/tune_lookahead.py CAUSAL_STAGE FEATURES_DIR [--sequences 150]

CAUSAL_STAGE: a shipped temporal name or run folder; FEATURES_DIR: a temporal run's features-<frame model>-0.
Prints accuracy, changes per second and mean lag per setting.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import torch

from emotrace.eval.sequence_features import SequenceFeatures
from emotrace.eval.sequences import change_latency, label_changes
from emotrace.eval.temporal_bench import FPS, replay
from emotrace.models.temporal.factory import create_temporal
from emotrace.models.temporal.filters import LookaheadTemporal


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("stage")
    ap.add_argument("features")
    ap.add_argument("--sequences", type=int, default=150)
    args = ap.parse_args()
    torch.set_num_threads(1)
    path = sorted(Path(args.features).glob("ferplus-train-*.npz"))[0]
    f = SequenceFeatures.load(path).subset(np.arange(args.sequences))
    t = np.arange(f.labels.shape[1]) / FPS
    inner = create_temporal(args.stage)
    base = replay(inner, t, f.frame_probs, f.embedding)

    def score(out: np.ndarray) -> str:
        pred = out.argmax(-1)
        acc = (pred == f.labels)[f.mask].mean()
        ch = sum(label_changes(p) for p in pred) / (f.mask.sum() / FPS)
        lag = [a for i in range(len(pred)) for a, _ in change_latency(pred[i], f.labels[i], list(f.change_points[i]))
               if a is not None]
        return f"acc {acc:.4f} changes/s {ch:.2f} lag mean {np.mean(lag):.2f} median {np.median(lag):.0f}"

    print("causal", score(base))
    for delay, rate, sharp in itertools.product((0.33, 0.5, 0.8), (0.5, 1.0, 2.0), (0.3, 0.5, 0.7, 1.0)):
        stage = LookaheadTemporal(create_temporal(args.stage), delay_s=delay, switch_rate=rate, sharpness=sharp)
        print(f"delay {delay} rate {rate} sharpness {sharp}:", score(replay(stage, t, f.frame_probs, f.embedding)),
              flush=True)


if __name__ == "__main__":
    main()
