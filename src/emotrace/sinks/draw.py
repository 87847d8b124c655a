"""Drawing of boxes, track ids, labels and probability bars on a frame (video sink and live window share it)."""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from emotrace.results import FrameResult
from emotrace.sinks.draw_signals import Shown, draw_all_signals

# One fixed colour per emotion (BGR) so a label reads the same in every output.
COLORS = {
    "angry": (40, 40, 220), "disgust": (40, 140, 40), "fear": (160, 60, 160), "happy": (0, 200, 255),
    "sad": (200, 120, 40), "surprise": (0, 140, 255), "neutral": (170, 170, 170), "contempt": (90, 90, 160),
}


def colors_js() -> str:
    """`COLORS` as the web pages' `static/colors.js` (CSS hex, RGB): the file is generated from this table, and
    tests/sinks/test_draw.py checks it still is. Regenerate with
    `PYTHONPATH=src python -c "from emotrace.sinks.draw import colors_js; print(colors_js(), end='')"
    > src/emotrace/web/static/colors.js`."""
    body = ", ".join(f'{name}: "#{r:02x}{g:02x}{b:02x}"' for name, (b, g, r) in COLORS.items())
    return ("// Generated from emotrace.sinks.draw.COLORS by colors_js() (tests/sinks/test_draw.py checks it): the "
            "same colour per\n// emotion as the annotated video. Do not edit here.\n"
            f'"use strict";\nconst EMOTION_COLORS = Object.freeze({{ {body} }});\n')


def label_scale(w: int, h: int) -> float:
    """Text and line size for a frame: proportional to its shorter side (1.0 at 720 px), so labels stay readable
    on a 4K video and do not cover a small one."""
    return max(0.4, min(w, h) / 720)


def draw_result(image: np.ndarray, res: FrameResult, classes: list[str], bars: bool = True,
                signals: Mapping[int, Shown] | None = None) -> np.ndarray:
    """A copy of the frame with every face annotated; faces with signals also get a pose gauge and their top
    blendshapes (`signals`: what to show per track, a `SignalHold`'s; None: what each face measured on this
    frame), drawn after every box so no label covers them."""
    out = image.copy()
    h, w = out.shape[:2]
    scale = label_scale(w, h)
    thick = max(1, int(round(scale)))
    for face in res.records():
        probs, top = face.temporal_probs, face.top
        color = COLORS.get(classes[top], (255, 255, 255))
        x1, y1, x2, y2 = (int(round(v)) for v in face.box)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, max(2, int(round(2 * scale))))
        text = f"#{face.track_id} {classes[top]} {probs[top]:.2f}"
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, thick)
        pad = max(2, int(round(4 * scale)))
        ty = max(th + pad, y1 - pad)
        cv2.rectangle(out, (x1, ty - th - pad), (x1 + tw + 2 * pad, ty + pad // 2), color, -1)
        cv2.putText(out, text, (x1 + pad, ty - pad // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, (0, 0, 0), thick,
                    cv2.LINE_AA)
        if bars:
            _bars(out, probs, classes, x2 + 4 if x2 + 4 + 110 * scale < w else max(0, x1 - int(114 * scale)), y1,
                  scale)
    draw_all_signals(out, res, signals, scale)
    return out


BAR_BACKING = (32, 32, 32)  # BGR: behind the bar labels, so the white text reads on any background


def _bars(img: np.ndarray, probs: np.ndarray, classes: list[str], x: int, y: int, scale: float) -> None:
    """One row per class: its name on a dark filled backing (white text alone vanishes on a white wall), then
    the probability bar."""
    bar_w, row = int(70 * scale), max(10, int(14 * scale))
    bx = x + int(30 * scale)
    for k, c in enumerate(classes):
        yy = y + k * row
        if yy + row > img.shape[0]:
            break
        cv2.rectangle(img, (x, yy), (bx - 1, yy + row - 1), BAR_BACKING, -1)
        cv2.putText(img, c[:3], (x + 1, yy + row - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.38 * scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
        cv2.rectangle(img, (bx, yy + 2), (bx + bar_w, yy + row - 2), (60, 60, 60), -1)
        cv2.rectangle(img, (bx, yy + 2), (bx + int(bar_w * float(probs[k])), yy + row - 2),
                      COLORS.get(c, (255, 255, 255)), -1)
