"""Small collections written into a test's folder: short videos and photos of the public-domain astronaut (one
face), a corrupt file and a truncated video."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2

from tests.helpers import astronaut_frames, ffmpeg, write_video


def videos(folder: Path, n: int, frames: int = 12) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        fr = astronaut_frames(frames + i)
        out.append(write_video(folder / f"clip{i}.mp4", fr, fps=10.0))
    return out


def photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, img in enumerate(astronaut_frames(n, size=(300, 300))):
        p = folder / f"photo{i}.jpg"
        cv2.imwrite(str(p), img)
        out.append(p)
    return out


def corrupt(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 20)
    return path


def truncated(path: Path) -> Path:
    """An MJPEG AVI cut in half: the first frames decode, the rest is gone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(path, astronaut_frames(30), codec=["-c:v", "mjpeg"])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def truncated_copy(video: Path, path: Path, keep: float = 0.5) -> Path:
    """A real video cut off part way, as an interrupted copy leaves it: remuxed with the index first (faststart,
    so the frames before the cut still decode), then only the first `keep` of its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    whole = path.with_name(f"whole-{path.name}")
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-i", str(video), "-an", "-c", "copy",
                    "-movflags", "+faststart", str(whole)], check=True)
    data = whole.read_bytes()
    whole.unlink()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
