"""A run folder names its files once and keeps what shipping needs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emotrace.errors import EmotraceError
from emotrace.models.run_folder import RunFolder


def test_the_model_is_the_checkpoint_run_json_names(tmp_path):
    run = RunFolder(tmp_path)
    with pytest.raises(EmotraceError, match="no finished training run"):
        run.model_checkpoint()
    run.best.write_bytes(b"b")
    assert run.model_checkpoint() == tmp_path / "best.pt"  # a run still training: its best epoch so far
    run.final.write_bytes(b"f")
    run.write_info({"checkpoint": run.final.name})
    assert run.model_checkpoint() == tmp_path / "final.pt"
    assert json.loads((tmp_path / "run.json").read_text()) == run.info() == {"checkpoint": "final.pt"}
    assert not list(tmp_path.glob(".*part"))  # written through a temporary name, nothing left behind


def test_the_prior_round_trips_and_a_missing_one_is_one_clear_error(tmp_path):
    run = RunFolder(tmp_path)
    with pytest.raises(EmotraceError, match="saved no training prior"):
        run.prior()
    run.save_prior(np.array([0.25, 0.5, 0.25]), "test")
    assert run.prior().tolist() == [0.25, 0.5, 0.25]
    assert run.fold(3).path == tmp_path / "fold3" and run.finished_metrics() is None
