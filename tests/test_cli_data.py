"""`emotrace data stats | show | prepare` on the shared datasets, on fixtures, and on bad input."""

from __future__ import annotations

import json

import cv2
import pytest

from emotrace.cli import main
from tests.data import fixtures
from tests.helpers import CKPLUS, FERPLUS, needs_ferplus

needs_ckplus = pytest.mark.skipif(not CKPLUS.is_dir(), reason=f"CK+48 data not found at {CKPLUS}")


def _run(capsys, *args):
    code = main(["-q", *args])
    out, err = capsys.readouterr()
    return code, out, err


@needs_ferplus
def test_stats_and_show_ferplus(tmp_path, capsys):
    code, out, _ = _run(capsys, "data", "stats", str(FERPLUS), "--json")
    assert code == 0
    st = json.loads(out)
    assert st["dataset"] == "ferplus" and st["samples"] + st["skipped"] == 28558 + 3579
    assert set(st["per_split"]) == {"train", "valid"} and st["va_proxy"] is True
    code, out, _ = _run(capsys, "data", "show", str(FERPLUS), "-o", str(tmp_path / "fer.png"), "--per-class", "4")
    img = cv2.imread(str(tmp_path / "fer.png"))
    assert code == 0 and img is not None and img.shape[0] >= 7 * 96


@needs_ckplus
def test_stats_and_show_ckplus(tmp_path, capsys):
    code, out, _ = _run(capsys, "data", "stats", str(CKPLUS), "--subjects", "5")
    assert code == 0
    assert "327 samples" in out and "118 subjects" in out and "S005" in out
    code, out, _ = _run(capsys, "data", "show", str(CKPLUS), "-o", str(tmp_path / "ck.png"))
    assert code == 0 and cv2.imread(str(tmp_path / "ck.png")).shape[1] > 8 * 96


def test_prepare_reports_and_resumes(tmp_path, capsys):
    root = fixtures.write_jaffe(tmp_path / "jaffe")
    code, out, _ = _run(capsys, "data", "prepare", str(root), "-o", str(tmp_path / "cache"), "--workers", "1")
    assert code == 0 and "4 cropped" in out
    code, out, _ = _run(capsys, "data", "prepare", str(root), "-o", str(tmp_path / "cache"), "--workers", "1")
    assert "0 cropped, 4 already cached" in out


@pytest.mark.parametrize("args, text", [
    (["data", "stats", "/no/such/folder"], "no such dataset path"),
    (["data", "stats", "{empty}"], "not a dataset layout"),
])
def test_bad_input_is_one_line(tmp_path, capsys, args, text):
    code, out, err = _run(capsys, *[a.format(empty=tmp_path) for a in args])
    assert code == 2 and text in err and len(err.strip().splitlines()) == 1


def test_bad_option_and_empty_dataset(tmp_path, capsys):
    root = fixtures.write_jaffe(tmp_path / "jaffe")
    code, _, err = _run(capsys, "data", "stats", str(root), "--label-mode", "soft")
    assert code == 2 and "do not apply to jaffe" in err
    bad = tmp_path / "bad"
    (bad / "happy").mkdir(parents=True)
    (bad / "happy" / "x.png").write_bytes(b"not an image")
    code, _, err = _run(capsys, "data", "show", str(bad), "-o", str(tmp_path / "s.png"))
    assert code == 2 and "no usable samples" in err and not (tmp_path / "s.png").exists()
