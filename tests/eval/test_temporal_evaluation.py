"""`emotrace evaluate` on a temporal model takes a CK+ root as its message says (the root is detected as the CK+48
layout), and scores its clips."""

from __future__ import annotations

import json

from emotrace.cli import main
from emotrace.models.manifest import manifest
from tests.data import fixtures


def test_a_temporal_model_is_evaluated_on_a_ck_plus_root(tmp_path, capsys):
    root = fixtures.write_ck48(tmp_path / "ckplus")
    name = next(k for k, v in manifest().items() if v.role == "temporal" and v.default)
    assert main(["-q", "evaluate", name, str(root), "--out", str(tmp_path / "ev")]) == 0
    got = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert got["kind"] == "ckplus_seen_subjects" and got["sequences"] == 1  # the one sequence with a neutral start
    assert 0 <= got["temporal_last_frame_accuracy"] <= 1
