"""`emotrace serve` argument errors are one line with exit code 2, before anything starts."""

from __future__ import annotations

import pytest

from emotrace.cli import main


@pytest.mark.parametrize("args,msg", [
    (["--max-jobs", "0"], "--max-jobs must be more than 0"),
    (["--max-sockets", "-1"], "--max-sockets must be more than 0"),
    (["--port", "70000"], "--port must be 0-65535"),
    (["--detect-every", "0"], "--detect-every must be a whole number 1 or more (got 0)"),
])
def test_bad_serve_options(args, msg, capsys, tmp_path):
    assert main(["serve", "--data-dir", str(tmp_path / "d"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"emotrace: error: {msg}"


def test_data_dir_that_is_a_file(capsys, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["serve", "--data-dir", str(f)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_help_lists_the_limits(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for opt in ("--host", "--port", "--data-dir", "--max-upload-mb", "--max-queue", "--max-sockets", "--token",
                "--cors-origin", "--job-timeout"):
        assert opt in out


def test_settings_are_checked_for_programs_too(tmp_path):
    from emotrace.errors import EmotraceError
    from emotrace.web.settings import ServerSettings

    with pytest.raises(EmotraceError, match="max_jobs must be more than 0"):
        ServerSettings(data_dir=tmp_path, max_jobs=0)
    with pytest.raises(EmotraceError, match="min_score must be a number from 0 to 1"):
        ServerSettings(data_dir=tmp_path, analyzer={"min_score": 5})
    assert ServerSettings(data_dir=tmp_path).max_jobs == 1
