"""Issue 17, command line and Python API: signals, option checks, messages, native log noise, recorded commands,
truncated input. Each case as a new user would meet it: one line, the right exit code, nothing left behind."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pandas as pd
import pytest

from emotrace.analyzer_config import AnalyzerConfig
from emotrace.api import analyze
from emotrace.cli import main
from emotrace.errors import EmotraceError, SourceError
from emotrace.native_log import QUIET_ENV
from emotrace.sinks.lock import LOCK_NAME, FolderInUse, FolderLock
from tests.helpers import REPO, astronaut_frames, default_signals, write_video
from tests.test_cli import assert_empty, assert_one_line_error, run_cli

H264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "face.png"
    cv2.imwrite(str(path), astronaut_frames(1)[0])
    return path


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """Long enough (600 frames) that a run is still going when the test signals it."""
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    return write_video(path, astronaut_frames(40) * 15, fps=25, codec=H264)


@pytest.mark.parametrize("option,value,text", [
    ("--temporal", "ema:-1", "--temporal 'ema:-1': the time constant must be a number of seconds above 0"),
    ("--temporal", "bogus", "ema, ema:<seconds>"),
    ("--min-score", "5", "--min-score must be a number from 0 to 1"),
    ("--outputs", "", "--outputs must name at least one of csv"),
    ("--max-frames", "-5", "--max-frames must be a whole number 1 or more"),
    ("--detect-every", "0", "--detect-every must be a whole number 1 or more"),
    ("--threads", "-1", "--threads must be a whole number"),
    ("--person-distance", "-0.1", "--person-distance must be a number from 0 to 2"),
    ("--person-distance", "nan", "--person-distance must be a number from 0 to 2"),
])
def test_out_of_range_options_are_refused(tmp_path, capsys, image, option, value, text):
    code, _, err = run_cli(capsys, "analyze", str(image), "-o", str(tmp_path / "o"), f"{option}={value}")
    assert code == 2
    assert_one_line_error(err, text)
    assert_empty(tmp_path / "o")


def test_config_files_and_the_python_api_are_checked_the_same_way(tmp_path, capsys, image):
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text("min_score: 5\n")
    code, _, err = run_cli(capsys, "analyze", str(image), "-o", str(tmp_path / "o"), "--config", str(cfg))
    assert code == 2
    assert_one_line_error(err, "min_score must be a number from 0 to 1")
    with pytest.raises(EmotraceError, match="detect_every must be a whole number 1 or more"):
        analyze(str(image), detect_every=0)
    with pytest.raises(EmotraceError, match="time constant"):
        analyze(str(image), temporal="ema:-1")
    with pytest.raises(EmotraceError, match="mask must be one of none, oval, mesh"):
        AnalyzerConfig(mask="blur")
    with pytest.raises(SourceError, match="no frames given"):
        analyze([])
    with pytest.raises(EmotraceError, match="outputs must name at least one"):
        analyze(str(image), tmp_path / "o2", outputs=[])
    assert_empty(tmp_path / "o2")


@pytest.mark.parametrize("url", ["ftp://example.org/clip.mp4", "foo://bar"])
def test_unsupported_url_schemes_are_named(tmp_path, capsys, url):
    code, _, err = run_cli(capsys, "analyze", url, "-o", str(tmp_path / "o"))
    assert code == 2
    assert_one_line_error(err, f"unsupported URL scheme {url.split('://')[0]}://")


def test_quiet_works_after_the_subcommand(tmp_path, capsys, image):
    code = main(["analyze", "-q", str(image), "-o", str(tmp_path / "o"), "--outputs", "csv"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == "" and err == ""  # -q: no report, no progress bar
    assert (tmp_path / "o" / "emotions.csv").is_file()
    from emotrace.cli import build_parser

    for argv in (["data", "stats", "-q", "x"], ["-q", "data", "stats", "x"], ["serve", "--debug", "-v"]):
        args = build_parser().parse_args(argv)
        assert args.quiet or (args.debug and args.verbose), argv
    assert build_parser().parse_args(["-q", "models"]).quiet  # given before, not reset by the subcommand


def test_models_names_the_defaults(capsys):
    from emotrace.models.runtime import default_frame_model

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert f"{default_frame_model()} [default]" in out
    from emotrace.models.manifest import default_model

    assert f"temporal stage {default_model('temporal', default_frame_model())} live" in out


def test_a_folder_in_use_is_refused(tmp_path, capsys, image):
    out = tmp_path / "o"
    with FolderLock(out):
        code, _, err = run_cli(capsys, "analyze", str(image), "-o", str(out))
        assert code == 2
        assert_one_line_error(err, "is in use by another emotrace run")
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]
    code, _, err = run_cli(capsys, "analyze", str(image), "-o", str(out), "--outputs", "csv")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["emotions.csv"]  # the lock went with the run


def test_a_stale_lock_file_does_not_block(tmp_path, capsys, image):
    out = tmp_path / "o"
    out.mkdir()
    (out / LOCK_NAME).write_text("999999")  # left by a run killed with SIGKILL: the kernel dropped its lock
    code, _, err = run_cli(capsys, "analyze", str(image), "-o", str(out), "--outputs", "csv")
    assert code == 0, err


def _start(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "emotrace.cli", "-q", *map(str, args)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals, **kw)


def _wait_for(cond, proc, limit_s=180.0):
    end = time.monotonic() + limit_s  # a guard against a hang, not a timing check
    while time.monotonic() < end and proc.poll() is None:
        if cond():
            return True
        time.sleep(0.05)
    return False


def _has_part_files(out: Path) -> bool:
    """Whether the run has started writing; the folder may come and go between a look and a listing."""
    try:
        return any(p.name.endswith(".part") for p in out.iterdir())
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_stop_signals_leave_nothing_and_say_so(tmp_path, long_clip, sig):
    out = tmp_path / "out"
    proc = _start(["analyze", long_clip, "-o", out])
    assert _wait_for(lambda: _has_part_files(out), proc), proc.communicate()
    with pytest.raises(FolderInUse, match=f"pid {proc.pid}"):  # a second run into the folder is refused meanwhile
        FolderLock(out).acquire()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    assert_one_line_error(err.replace("emotrace: stopped", "emotrace: error: stopped"),
                          f"stopped by {sig.name}; no partial outputs were kept")
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


@pytest.mark.slow
def test_two_runs_into_one_folder_never_mix(tmp_path, long_clip, image):
    out = tmp_path / "out"
    first = _start(["analyze", long_clip, "-o", out, "--outputs", "csv,parquet,summary"])
    assert _wait_for(lambda: (out / LOCK_NAME).exists(), first), first.communicate()
    second = _start(["analyze", image, "-o", out, "--outputs", "csv,parquet,summary"])
    _, err2 = second.communicate(timeout=300)
    _, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2 and "in use by another emotrace run" in err2, err2
    csv = pd.read_csv(out / "emotions.csv")
    assert csv["frame"].nunique() == 600  # the first run's rows only
    assert len(pd.read_parquet(out / "emotions.parquet")) == len(csv)
    assert json.loads((out / "summary.json").read_text())["frames"] == 600
    assert sorted(p.name for p in out.iterdir()) == ["emotions.csv", "emotions.parquet", "summary.json"]


def test_native_lines_are_held_back_unless_debug(tmp_path):
    clip = write_video(tmp_path / "clip.mp4", astronaut_frames(20), codec=H264)  # moov atom at the end
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    env = {k: v for k, v in os.environ.items() if k not in QUIET_ENV}  # as a user's shell has it
    quiet = subprocess.run([sys.executable, "-m", "emotrace.cli", "-q", "analyze", str(clip), "-o",
                            str(tmp_path / "o")], cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert quiet.returncode == 2
    assert_one_line_error(quiet.stderr, "clip.mp4")
    debug = subprocess.run([sys.executable, "-m", "emotrace.cli", "-q", "--debug", "analyze", str(clip), "-o",
                            str(tmp_path / "o")], cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert debug.returncode == 2 and "moov atom not found" in debug.stderr


def test_native_capture_keeps_python_stderr(capfd):
    from emotrace.native_log import capture_native_stderr

    with capture_native_stderr() as lines:
        os.write(2, b"[ WARN:0@1.0] global cap.cpp native noise\n")
        print("emotrace: a real warning", file=sys.stderr)
    err = capfd.readouterr().err
    assert "native noise" not in err and "a real warning" in err
    assert lines and "native noise" in lines[-1]


def test_summary_records_the_command_quoted(tmp_path, capsys, image):
    spaced = tmp_path / "my photos" / "a face.png"
    spaced.parent.mkdir()
    spaced.write_bytes(image.read_bytes())
    out = tmp_path / "out dir"
    code, _, err = run_cli(capsys, "analyze", str(spaced), "-o", str(out), "--outputs", "summary")
    assert code == 0, err
    prov = json.loads((out / "summary.json").read_text())["provenance"]
    argv = ["emotrace", "-q", "analyze", str(spaced), "-o", str(out), "--outputs", "summary"]
    assert prov["argv"] == argv
    assert shlex.split(prov["command"]) == argv


def test_evaluate_records_every_option(tmp_path, capsys):
    from tests.data.fixtures import write_folders

    data = write_folders(tmp_path / "faces data")
    out = tmp_path / "eval out"
    argv = ["evaluate", "emotrace-cnn-m-ferplus", str(data), "--split", "test", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    record = json.loads((out / "metrics.json").read_text())
    assert shlex.split(record["command"]) == ["emotrace", *argv]


def test_truncated_video_with_index_first_is_marked_incomplete(tmp_path, capsys):
    clip = write_video(tmp_path / "clip.mp4", astronaut_frames(40) * 2, fps=20, codec=H264,
                       extra=["-movflags", "+faststart"])
    clip.write_bytes(clip.read_bytes()[: int(clip.stat().st_size * 0.6)])
    code, _, err = run_cli(capsys, "analyze", str(clip), "-o", str(tmp_path / "o"), "--outputs", "csv,summary")
    assert code == 0, err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["complete"] is False and "decoding stopped at frame" in summary["incomplete_reason"]
    assert 10 <= summary["frames"] < 80
    whole = write_video(tmp_path / "whole.mp4", astronaut_frames(10), codec=H264)
    code, _, err = run_cli(capsys, "analyze", str(whole), "-o", str(tmp_path / "o3"), "--outputs", "summary")
    assert code == 0, err
    assert json.loads((tmp_path / "o3" / "summary.json").read_text())["complete"] is True


def test_wrong_extensions_are_read_by_their_content(tmp_path, capsys, image):
    as_video = tmp_path / "photo.mp4"
    as_video.write_bytes(image.read_bytes())  # a PNG saved as .mp4
    clip = write_video(tmp_path / "clip.mp4", astronaut_frames(6), codec=H264)
    as_image = tmp_path / "clip.jpg"
    as_image.write_bytes(clip.read_bytes())  # an MP4 saved as .jpg
    for src, frames in ((as_video, 1), (as_image, 6)):
        out = tmp_path / f"out-{src.name}"
        code, _, err = run_cli(capsys, "analyze", str(src), "-o", str(out), "--outputs", "summary")
        assert code == 0, err
        assert json.loads((out / "summary.json").read_text())["frames"] == frames


@pytest.mark.parametrize("name,args,text", [
    ("audio.mp4", ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1", "-c:a", "aac"], "(only audio)"),
    ("empty.mp4", ["-f", "lavfi", "-i", "color=c=gray:s=64x64:r=10", "-frames:v", "0", *H264],
     "(the container holds no streams)"),
])
def test_files_without_a_video_stream_say_so(tmp_path, capsys, name, args, text):
    from tests.helpers import ffmpeg

    path = tmp_path / name
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", *args, str(path)], check=True)
    code, _, err = run_cli(capsys, "analyze", str(path), "-o", str(tmp_path / "o"))
    assert code == 2
    assert_one_line_error(err, f"no video stream in {path} {text}")
    assert_empty(tmp_path / "o")


@pytest.mark.parametrize("command,argv,cls_path", [
    ("serve", [], "emotrace.web.settings:ServerSettings"),
    ("batch", ["in", "-o", "out"], "emotrace.batch.options:BatchOptions"),
])
def test_options_and_defaults_come_from_the_config(capsys, command, argv, cls_path):
    """Every option field is an option, with the dataclass's default; `--help` lists it with its help line."""
    import dataclasses
    import importlib

    from emotrace.cli import build_parser
    from emotrace.cli_options import option_fields, option_flags, option_values

    module, name = cls_path.split(":")
    cls = getattr(importlib.import_module(module), name)
    values = option_values(cls, build_parser().parse_args([command, *argv]))
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert len(values) >= 8
    for k, v in values.items():
        f = fields[k]
        if f.default is not dataclasses.MISSING:
            want = ",".join(f.default) if isinstance(f.default, tuple) else f.default
            assert v == want, k
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for f in option_fields(cls):
        assert option_flags(cls)[f.name] in out
        assert " ".join(f.metadata["help"].split())[:30] in out, f.name


def test_pipeline_options_are_generated_and_a_config_file_stands(tmp_path, capsys):
    """Each AnalyzerConfig option is there with its choices; an option not typed leaves --config's value."""
    from emotrace.analyzer_config import DETECTORS, MASKS, RUNTIMES, AnalyzerConfig
    from emotrace.cli import _analyzer_config, build_parser
    from emotrace.cli_options import option_flags

    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    out = capsys.readouterr().out
    for flag in option_flags(AnalyzerConfig).values():
        assert flag in out
    for choices in (DETECTORS, RUNTIMES, MASKS):
        assert "{" + ",".join(choices) + "}" in out
    cfg_file = tmp_path / "p.yaml"
    cfg_file.write_text("min_score: 0.55\nmask: oval\noffline: false\n")
    parse = build_parser().parse_args
    cfg = _analyzer_config(parse(["analyze", "x", "-o", "o", "--config", str(cfg_file), "--mask", "mesh"]))
    assert (cfg.min_score, cfg.mask, cfg.offline, cfg.assume_crop) == (0.55, "mesh", False, False)
    cfg = _analyzer_config(parse(["analyze", "x", "-o", "o", "--causal", "--crops", "--detect-every", "2"]))
    assert (cfg.offline, cfg.assume_crop, cfg.detect_every, cfg.detector) == (False, True, 2, AnalyzerConfig.detector)


def test_one_error_line_for_every_kind_of_error():
    from emotrace.errors import SourceError, one_line

    assert one_line(SourceError("cannot open x")) == "cannot open x"
    err = FileNotFoundError(2, "No such file or directory", "/srv/data/job/in.mp4")
    assert one_line(err) == "No such file or directory: /srv/data/job/in.mp4"
    assert one_line(err, file_name_only=True) == "No such file or directory: in.mp4"
    assert one_line(ValueError("first\nsecond")) == "ValueError: first"
    assert one_line(RuntimeError()) == "RuntimeError: "


def test_analyzer_config_round_trips_through_its_dict():
    from emotrace.analyzer_config import AnalyzerConfig
    from emotrace.errors import EmotraceError

    cfg = AnalyzerConfig(min_score=0.6, temporal="ema:0.3", assume_crop=True)
    assert AnalyzerConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(EmotraceError, match="min_score"):
        AnalyzerConfig.from_dict({**cfg.to_dict(), "min_score": 2})
