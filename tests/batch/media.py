"""Small collections written into a test's folder: short videos and photos of the public-domain astronaut (one
face), a corrupt file and a truncated video."""

from __future__ import annotations

from pathlib import Path

import cv2

from tests.helpers import astronaut_frames, write_video


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
