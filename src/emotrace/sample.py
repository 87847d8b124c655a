"""The built-in sample: a short clip rendered from scikit-image's astronaut photo (Eileen Collins, NASA, public
domain), so the first run needs no file from outside the package registries.

The camera drifts, zooms and rolls a little over the still, and the clip ends with a few frames where the face has
left the picture, so the sample exercises detection, tracking, alignment and a face leaving.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from emotrace.errors import EmotraceError


def astronaut_bgr() -> np.ndarray:
    try:
        from skimage import data
    except ImportError:
        raise EmotraceError("the sample needs scikit-image (pip install scikit-image)") from None
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def render_sample_clip(path: str | Path, seconds: float = 4.0, fps: float = 25.0, size: tuple[int, int] = (640, 360),
                       ) -> Path:
    """Write the sample clip (mp4v) to `path` and return it."""
    img = astronaut_bgr()
    h, w = img.shape[:2]
    canvas = cv2.copyMakeBorder(img, 0, 0, w // 2, w, cv2.BORDER_CONSTANT, value=(30, 30, 30))
    out_w, out_h = size
    n = int(seconds * fps)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (out_w, out_h))
    face_c = np.array([w // 2 + 230, 120.0])  # the face, in canvas coordinates
    for i in range(n):
        u = i / max(1, n - 1)
        leave = max(0.0, (u - 0.7) / 0.3)  # the last 30% pans away from the face
        center = face_c + np.array([40 * math.sin(2 * math.pi * u) + 700 * leave, 30 * math.cos(2 * math.pi * u)])
        zoom = 1.6 + 0.3 * math.sin(math.pi * u)
        angle = 6 * math.sin(3 * math.pi * u)
        m = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), angle, zoom)
        m[:, 2] += np.array([out_w / 2, out_h / 2]) - center
        writer.write(cv2.warpAffine(canvas, m, (out_w, out_h), borderValue=(30, 30, 30)))
    writer.release()
    tmp.replace(path)
    return path
