"""Start-up stays light: the CLI and the ONNX analyse path import no torch, pandas, pyarrow or matplotlib (each
costs 0.2-1.6 s of a first result on a small CPU). Checked in a fresh interpreter, since this one has them."""

import json
import subprocess
import sys

import pytest

from tests.helpers import MEDIA, REPO, needs_shared

HEAVY = ["torch", "pandas", "pyarrow", "matplotlib"]


def _loaded(code: str) -> dict[str, bool]:
    probe = code + f"\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=REPO, env=_env())
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_importing_the_cli_loads_nothing_heavy():
    assert not any(_loaded("import emotrace.cli\nemotrace.cli.build_parser()").values())


@needs_shared
def test_the_onnx_analyze_path_imports_no_torch(tmp_path):
    pytest.importorskip("onnxruntime")
    code = (f"from emotrace.cli import main\n"
            f"rc = main(['-q', 'analyze', {str(MEDIA / 'single_face.jpg')!r}, '-o', {str(tmp_path)!r}, "
            f"'--outputs', 'csv,summary,jsonl'])\nassert rc == 0, rc")
    loaded = _loaded(code)
    assert (tmp_path / "emotions.csv").is_file()
    assert loaded == {m: False for m in HEAVY}, loaded


@needs_shared
def test_a_video_on_onnx_imports_no_torch(tmp_path):
    pytest.importorskip("onnxruntime")
    code = (f"from emotrace.pipeline import Analyzer\nfrom emotrace.api import run, build_sinks\n"
            f"a = Analyzer()\nassert a.model.runtime == 'onnx'\n"
            f"run({str(MEDIA / 'WolfgangLanger_Pexels.mp4')!r}, a, build_sinks({str(tmp_path)!r}, ['csv']), "
            f"max_frames=10)")
    assert not _loaded(code)["torch"]
