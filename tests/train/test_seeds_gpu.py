"""benchmarks/seeds_gpu.py, the full-budget seed table for a lent GPU: its overrides, and one row end to end on
the CPU at a tiny size (the run folder, metrics.json and summary.json it writes; a second call reuses the row)."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.helpers import CKPLUS, REPO


def _script():
    spec = importlib.util.spec_from_file_location("seeds_gpu", REPO / "benchmarks" / "seeds_gpu.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def test_gpu_overrides_keep_data_on_the_device(tmp_path):
    mod = _script()
    over = mod.overrides({"epochs": 3}, tmp_path / "r", tiny=False, fold=2)
    assert over["device"] == "cuda" and over["amp"] and over["data_on_device"]
    assert over["epochs"] == 3 and over["fold"] == 2 and over["out_dir"] == str(tmp_path / "r")
    assert all((REPO / config).is_file() for _, config, _ in mod.ROWS)


@pytest.mark.skipif(not CKPLUS.is_dir(), reason=f"CK+ not found at {CKPLUS}")
def test_tiny_row_runs_on_the_cpu(tmp_path):
    mod = _script()
    assert mod.main(["--out", str(tmp_path), "--tiny", "--only", "seed4-cnn-ckplus"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary[0]["row"] == "seed4-cnn-ckplus" and 0.0 <= summary[0]["accuracy"] <= 1.0
    assert (tmp_path / "seed4-cnn-ckplus" / "best.pt").is_file()
    assert mod.main(["--out", str(tmp_path), "--tiny", "--only", "seed4-cnn-ckplus"]) == 0  # reused, not retrained
