"""The numbers the model card and README report are what `emotrace evaluate` measures on the shipped weights."""

import json

import pytest

from emotrace.cli import main
from emotrace.models.registry import weight_record
from tests.helpers import FERPLUS, needs_ferplus


@needs_ferplus
def test_evaluate_reproduces_the_manifest_metrics(tmp_path, capsys):
    assert main(["evaluate", "default", str(FERPLUS), "--out", str(tmp_path)]) == 0
    got = json.loads((tmp_path / "metrics.json").read_text())
    m = weight_record("emotrace-cnn-s-ferplus")["metrics"]
    assert got["ferplus7_accuracy"] == pytest.approx(m["ferplus_valid_acc_7class_plurality"], abs=1e-6)
    assert got["fer2013_accuracy"] == pytest.approx(m["fer2013_valid_acc_original_labels"], abs=1e-6)
    assert got["ferplus7_n"] == 3529 and got["fer2013_n"] == 3579
