"""The seed and temporal configs of configs/ through the same checks as test_configs.py (split off so the two test
workers share the trainings evenly): each trains briefly, is evaluated and exported, and its numbers reproduce."""

from __future__ import annotations

import pytest

from tests.helpers import CKPLUS
from tests.train.test_configs import PLAN, _evaluate_and_export, _train, check_config

SEED_AND_TEMPORAL = [c for c in sorted(PLAN) if c.startswith(("seed", "temporal"))]


@pytest.mark.slow
@pytest.mark.parametrize("config", SEED_AND_TEMPORAL)
def test_config_trains_evaluates_and_exports(tmp_path, config, crop_cache, feature_cache, small_data):
    check_config(tmp_path, config, crop_cache, feature_cache, small_data)


@pytest.mark.slow
@pytest.mark.skipif(not CKPLUS.is_dir(), reason=f"CK+ not found at {CKPLUS}")
def test_two_stage_config_reads_a_trained_run(tmp_path, small_data):
    ckplus = ["--set", f"data={small_data['ckplus']}"]
    cnn = tmp_path / "cnn"
    _train("seed4-cnn-ckplus.yaml", cnn, ["--max-train", "32", "--max-eval", "16", *ckplus])
    rnn = tmp_path / "rnn"
    _train("seed4-rnn.yaml", rnn, ["--set", f"features_from={cnn}", "--max-eval", "8", *ckplus])
    # on its own data (the run's split, through its CNN's embeddings), then on the named set
    _evaluate_and_export(rnn, small_data["ckplus"], tmp_path)


