"""The temporal task with face signals stacked beside the embedding (`TemporalConfig.signals`, seed 1's proposal):
the signals are read on every rendered frame and cached beside the features, the model's input widens by
SIGNAL_FEATURES and its contract says so, the run evaluates again to the same numbers, and the pipeline, which does
not feed signals to a temporal model, refuses it in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emotrace.errors import EmotraceError
from emotrace.faces.signals import SIGNAL_FEATURES
from tests.data import fixtures
from tests.helpers import CKPLUS
from tests.train.test_configs import PLAN, _evaluate_and_export, _train

CONFIG = "temporal-gru.yaml"


@pytest.mark.slow
def test_a_temporal_run_on_embeddings_and_signals(tmp_path, small_data):
    if "ferplus" not in small_data or not CKPLUS.is_dir():
        pytest.skip("FER+ and CK+ are not here (../shared)")
    ckplus = fixtures.ckplus_subset(CKPLUS, tmp_path / "ckplus", 2)  # every CK+ frame is read: two subjects
    cache = tmp_path / "features"
    run = tmp_path / "run"
    _train(CONFIG, run, [*PLAN[CONFIG][0], "--set", f"ferplus_root={small_data['ferplus']}",
                         "--set", f"ckplus_root={ckplus}", "--set", f"feature_cache={cache}", "--set", "signals=true",
                         "--set", "ferplus_sequences=4", "--set", "ferplus_valid_sequences=2", "--set", "length=8"])
    from emotrace.models.checkpoint import load_model

    loaded = load_model(run)
    assert loaded.contract.extra["signals"] == SIGNAL_FEATURES
    embedding = np.load(cache / "ferplus-valid-2x8.npz")["embedding"]
    assert loaded.contract.channels == embedding.shape[-1] + SIGNAL_FEATURES
    signals = np.load(cache / "ferplus-valid-2x8-signals.npz")["signals"]
    assert signals.shape == (2, 8, SIGNAL_FEATURES)
    measured = signals[..., -1]
    assert set(np.unique(measured)) <= {0.0, 1.0} and measured.mean() > 0.5  # most 48 px FER+ faces fit
    fitted = signals[measured == 1]
    assert (fitted[:, :52] >= 0).all() and (fitted[:, :52] <= 1).all() and (np.abs(fitted[:, 52:55]) <= 2).all()
    assert not signals[measured == 0].any()  # a face not measured is zeros throughout
    _evaluate_and_export(run, small_data[PLAN[CONFIG][1]], tmp_path)
    from emotrace.cli import main

    # CK+ clips are rendered anew there: their signals are read then, by a landmarker opened for the call
    assert main(["-q", "evaluate", str(run), str(ckplus), "--out", str(tmp_path / "ck")]) == 0
    scored = json.loads((tmp_path / "ck" / "metrics.json").read_text())
    assert scored["kind"] == "ckplus_seen_subjects" and 0 <= scored["temporal_last_frame_accuracy"] <= 1

    import emotrace

    with pytest.raises(EmotraceError, match="reads face signals"):
        emotrace.Analyzer(temporal=str(run))
    from emotrace.models.manifest import WEIGHTS_DIR

    assert main(["-q", "ship", str(run), "--name", "signals-gru", "--not-default"]) == 2  # refused in one line
    assert not list(WEIGHTS_DIR.glob("signals-gru*"))  # and nothing shipped
