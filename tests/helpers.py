"""Shared test helpers: where ../shared is, and real media files written in the exact on-disk formats."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("EMOTRACE_SHARED", REPO.parent / "shared"))
MEDIA = SHARED / "media"
FERPLUS = SHARED / "data" / "ferplus"
CKPLUS = SHARED / "data" / "ckplus"

needs_shared = pytest.mark.skipif(not MEDIA.is_dir(), reason=f"../shared not found at {SHARED} (research data and "
                                  "media are not in the repo; set EMOTRACE_SHARED)")
needs_ferplus = pytest.mark.skipif(not FERPLUS.is_dir(), reason=f"FER+ data not found at {FERPLUS}")


def default_signals() -> None:
    """`preexec_fn` for a child a test will signal: SIGINT back to its default, so Python installs its
    KeyboardInterrupt handler. A shell that starts the suite as a background job ignores SIGINT, the child would
    inherit that and never see the signal; `restore_signals=True` covers only SIGPIPE, SIGXFZ and SIGXFSZ."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# The child's bootstrap: SIGUSR1 prints every thread's stack to a copy of descriptor 2 taken before the CLI routes
# descriptor 2 into its native-log pipe (`native_log.py`), whose reader thread could not run during the dump.
_DUMPABLE_CLI = ("import faulthandler, os, signal, sys; "
                 "faulthandler.register(signal.SIGUSR1, file=os.fdopen(os.dup(2), 'w'), all_threads=True); "
                 "from emotrace.cli import main; sys.exit(main(sys.argv[1:]))")


def run_emotrace(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`emotrace ARGS` in a child, its output captured. A child still running after `timeout` is asked for every
    thread's stack (SIGUSR1, faulthandler), then killed, and the test fails with that dump: a hang that shows once
    in many runs names where it waits instead of being only a timeout."""
    proc = subprocess.Popen([sys.executable, "-c", _DUMPABLE_CLI, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)
        try:
            out, err = proc.communicate(timeout=10)  # the dump; a run that goes on is killed after it
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        pytest.fail(f"emotrace {' '.join(args)} still running after {timeout:g} s; its threads:\n{err[-8000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def astronaut_frames(n: int = 12, size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """A small moving view of the public-domain astronaut photo (one face)."""
    from emotrace.sample import astronaut_bgr

    img = astronaut_bgr()
    frames = []
    for i in range(n):
        x0 = 100 + 2 * i
        crop = img[0:300, x0:x0 + 300]
        frames.append(cv2.resize(crop, size))
    return frames


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0, codec: list[str] | None = None,
                extra: list[str] | None = None) -> Path:
    """Encode frames with the ffmpeg that imageio-ffmpeg ships (container chosen by the suffix)."""
    h, w = frames[0].shape[:2]
    cmd = [ffmpeg(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
           "-r", str(fps), "-i", "-"]
    cmd += codec or []
    cmd += extra or []
    cmd.append(str(path))
    subprocess.run(cmd, input=b"".join(f.tobytes() for f in frames), check=True)
    return path
