"""Training throughput of each architecture on this CPU, as rows/s and as a ratio to the default frame CNN.

    python benchmarks/bench_training.py [--steps 20] [--threads 2] [--out benchmarks/results]

Each row is one optimiser step (forward, backward, Adam) on a batch of the model's documented input, random
tensors, after two warm-up steps: this is the model's compute, not data loading. A row is an image for still models,
a clip or sequence for temporal ones (so clips/s for seed 1), an embedding window for seed 4's RNN.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from emotrace.models import create_model
from emotrace.models.contract import input_spec_of
from emotrace.models.export import example_input
from emotrace.models.outputs import model_outputs
from emotrace.provenance import provenance

CASES = [  # (label, arch, kwargs, batch, input override)
    ("emotrace-cnn-s (default frame model)", "emotrace-cnn-s", {}, 128, None),
    ("emotrace-gru (temporal, 16-step windows)", "emotrace-gru", {}, 128,
     {"kind": "features", "frames": 16, "channels": 128}),
    ("seed1-conv3d-lstm 6 layers (75x28x28x3 clips)", "seed1-conv3d-lstm", {"layers": 6}, 32, None),
    ("seed2-cnn-lstm (4-frame sequences)", "seed2-cnn-lstm", {}, 16, {"kind": "sequence", "frames": 4,
                                                                      "size": 48, "channels": 1}),
    ("seed3-cnn-lstm (48x48 stills)", "seed3-cnn-lstm", {}, 20, None),
    ("seed3-cnn-lstm-td (4-frame sequences)", "seed3-cnn-lstm-td", {"frames": 4}, 20, None),
    ("seed4-cnn (96x96 stills)", "seed4-cnn", {}, 64, None),
    ("seed4-rnn GRU 1x100 (100-frame windows)", "seed4-rnn", {"cell": "gru", "layers": 1}, 128, None),
]


def rows_per_s(arch: str, kwargs: dict, batch: int, spec_override: dict | None, steps: int) -> float:
    torch.manual_seed(0)
    model = create_model(arch, **kwargs).train()
    spec = spec_override or input_spec_of(model)
    x = example_input(spec, batch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    for i in range(steps + 2):
        if i == 2:
            t0 = time.perf_counter()
        out = model_outputs(model, x)
        loss = sum(v.float().pow(2).mean() for v in out.values())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = []
    base = None
    for label, arch, kwargs, batch, spec in CASES:
        r = rows_per_s(arch, kwargs, batch, spec, args.steps)
        base = base or r
        results.append({"model": label, "arch": arch, "batch": batch, "rows_per_s": r, "ratio_to_default": r / base})
        print(f"{label:48s} batch {batch:4d}: {r:9.1f} rows/s  ({r / base:.3f} x default frame CNN)", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_training.json").write_text(json.dumps({"results": results, **provenance(vars(args))}, indent=2))


if __name__ == "__main__":
    main()
