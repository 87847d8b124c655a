"""Every bad input of the foundation issue: a one-line message, the right exit code, and no partial outputs."""

import cv2
import numpy as np
import pandas as pd
import pytest

from emotrace.cli import main
from tests.helpers import MEDIA, astronaut_frames, needs_shared, run_emotrace, write_video


def run_cli(capsys, *args):
    code = main(["-q", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err, text):
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("emotrace: error:") and text in lines[0], err
    assert "Traceback" not in err


def assert_empty(folder):
    assert not folder.exists() or not any(folder.iterdir()), list(folder.iterdir())


@pytest.mark.parametrize("make,text", [
    (lambda p: p, "no such file"),
    (lambda p: (p.write_bytes(b""), p)[1], "file is empty"),
    (lambda p: (p.write_text("just some text\n" * 100), p)[1], "not a readable image or video"),
])
def test_missing_empty_and_non_media_files(tmp_path, capsys, make, text):
    src = make(tmp_path / "input.mp4")
    code, _, err = run_cli(capsys, "analyze", str(src), "-o", str(tmp_path / "out"))
    assert code == 2
    assert_one_line_error(err, text)
    assert_empty(tmp_path / "out")


def test_unsupported_codec(tmp_path, capsys):
    path = write_video(tmp_path / "clip.avi", astronaut_frames(5), codec=["-c:v", "mjpeg"])
    path.write_bytes(path.read_bytes().replace(b"MJPG", b"ZZZZ").replace(b"mjpg", b"zzzz"))
    code, _, err = run_cli(capsys, "analyze", str(path), "-o", str(tmp_path / "out"))
    assert code == 2
    assert_one_line_error(err, "")
    assert_empty(tmp_path / "out")


def test_truncated_video_keeps_what_decodes(tmp_path, capsys):
    path = write_video(tmp_path / "clip.avi", astronaut_frames(30), codec=["-c:v", "mjpeg"])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, _, err = run_cli(capsys, "analyze", str(path), "-o", str(tmp_path / "out"), "--outputs", "csv,summary")
    assert code == 0, err
    df = pd.read_csv(tmp_path / "out" / "emotions.csv")
    assert 5 <= df["frame"].nunique() < 30


def test_truncated_to_nothing_is_an_error(tmp_path, capsys):
    path = write_video(tmp_path / "clip.mp4", astronaut_frames(10), codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    path.write_bytes(path.read_bytes()[:600])
    code, _, err = run_cli(capsys, "analyze", str(path), "-o", str(tmp_path / "out"))
    assert code == 2
    assert_one_line_error(err, "")
    assert_empty(tmp_path / "out")


def test_unreadable_webcam_and_url(tmp_path, capsys):
    code, _, err = run_cli(capsys, "analyze", "97", "-o", str(tmp_path / "out"))
    assert code == 2
    assert_one_line_error(err, "cannot open webcam 97")
    code, _, err = run_cli(capsys, "analyze", "rtsp://127.0.0.1:9/stream", "-o", str(tmp_path / "out"))
    assert code == 2
    assert_one_line_error(err, "cannot open stream")
    assert_empty(tmp_path / "out")


@pytest.mark.parametrize("kind", ["gray", "rgba", "16bit"])
def test_unusual_images_give_valid_results(tmp_path, capsys, kind):
    img = astronaut_frames(1, size=(300, 300))[0]
    img = {"gray": cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), "rgba": cv2.cvtColor(img, cv2.COLOR_BGR2BGRA),
           "16bit": img.astype(np.uint16) * 257}[kind]
    cv2.imwrite(str(tmp_path / "face.png"), img)
    code, _, err = run_cli(capsys, "analyze", str(tmp_path / "face.png"), "-o", str(tmp_path / "out"),
                           "--outputs", "csv")
    assert code == 0, err
    df = pd.read_csv(tmp_path / "out" / "emotions.csv")
    assert len(df) == 1 and df.loc[0, "n_faces"] == 1


@needs_shared
def test_video_without_faces_is_a_valid_result(tmp_path, capsys):
    code, _, err = run_cli(capsys, "analyze", str(MEDIA / "no_face.mp4"), "-o", str(tmp_path / "out"))
    assert code == 0, err
    df = pd.read_csv(tmp_path / "out" / "emotions.csv")
    assert len(df) >= 90 and (df["n_faces"] == 0).all()
    assert (tmp_path / "out" / "summary.json").is_file()


def test_output_path_that_is_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    img = tmp_path / "face.png"
    cv2.imwrite(str(img), astronaut_frames(1)[0])
    code, _, err = run_cli(capsys, "analyze", str(img), "-o", str(tmp_path / "taken"))
    assert code == 2
    assert_one_line_error(err, "not a folder")


def test_bad_option_values(tmp_path, capsys):
    img = tmp_path / "face.png"
    cv2.imwrite(str(img), astronaut_frames(1)[0])
    code, _, err = run_cli(capsys, "analyze", str(img), "-o", str(tmp_path / "o"), "--detect-every", "0")
    assert code == 2 and "detect-every" in err
    code, _, err = run_cli(capsys, "analyze", str(img), "-o", str(tmp_path / "o"), "--outputs", "csv,pdf")
    assert code == 2 and "unknown output" in err
    assert_empty(tmp_path / "o")


def test_live_without_display_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, _, err = run_cli(capsys, "live", "0")
    assert code == 2
    assert_one_line_error(err, "--output")


def test_live_writes_to_a_file_and_reports_latency(tmp_path, capsys):
    clip = write_video(tmp_path / "clip.mp4", astronaut_frames(12), codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    code, out, err = run_cli(capsys, "live", str(clip), "--output", str(tmp_path / "live.mp4"))
    assert code == 0, err
    assert "latency" in out and (tmp_path / "live.mp4").stat().st_size > 0


def test_the_installed_command_runs_the_sample(tmp_path):
    res = run_emotrace("sample", "-o", str(tmp_path / "s"), "--outputs", "csv,summary,video")
    assert res.returncode == 0, res.stderr
    assert "wrote 3 file(s)" in res.stdout
    df = pd.read_csv(tmp_path / "s" / "emotions.csv")
    present = df.groupby("frame")["n_faces"].max() > 0
    assert present.iloc[:60].all() and not present.iloc[-5:].any()  # the face leaves at the end of the sample
