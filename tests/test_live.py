"""The live window on a real (virtual) display: Xvfb runs, the Tk window opens, frames are shown, 'q' quits."""

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.helpers import astronaut_frames, write_video

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("xdotool") is None,
                                reason="Xvfb and xdotool not installed (apt-get install xvfb xdotool)")


@pytest.fixture
def display():
    disp = ":97"
    proc = subprocess.Popen(["Xvfb", disp, "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 30  # a hang guard: wait for the server's socket, not a fixed second
    while not os.path.exists(f"/tmp/.X11-unix/X{disp[1:]}") and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.05)
    yield disp
    proc.terminate()
    proc.wait(timeout=10)


def test_live_window_shows_frames_and_quits_on_q(tmp_path, display):
    # A long clip, so the window is still open when 'q' arrives.
    clip = write_video(tmp_path / "clip.mp4", astronaut_frames(40) * 20, fps=25,
                       codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    env = {**os.environ, "DISPLAY": display}
    proc = subprocess.Popen([sys.executable, "-m", "emotrace.cli", "live", str(clip)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        window = ""
        for _ in range(120):
            res = subprocess.run(["xdotool", "search", "--name", "emotrace live"], env=env, capture_output=True,
                                 text=True)
            window = res.stdout.split()[0] if res.stdout.split() else ""
            if window:
                break
            time.sleep(0.5)
        assert window, "live window never appeared"
        time.sleep(3)
        subprocess.run(["xdotool", "windowfocus", "--sync", window, "key", "q"], env=env, capture_output=True)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "latency" in out
    frames = int(out.strip().splitlines()[-1].split()[0])
    assert 0 < frames < 800  # quit before the clip ended
