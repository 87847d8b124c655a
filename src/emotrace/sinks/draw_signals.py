"""A face's signals drawn beside its box (in the manner of supervision's small annotators): a head-pose gauge and
the top blendshapes, composed with `draw.draw_result`'s box and label. Nothing is drawn for a face without
signals, so a run with signals off draws exactly what it drew before."""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from emotrace.faces.signal_names import BLENDSHAPES
from emotrace.results import FaceRecord, FrameResult

Shown = tuple[np.ndarray, np.ndarray]  # blendshapes (52,), pose (3,): what is drawn for one face
BACKING, INK, RING, DOT = (32, 32, 32), (240, 240, 240), (150, 150, 150), (80, 220, 255)
POSE_RANGE = 60.0  # degrees of yaw or pitch that put the gauge's dot on its rim
TOP = 3


def measured(face: FaceRecord) -> Shown | None:
    """The face's blendshapes and pose when they were measured on this frame."""
    if face.signals is None or face.signals[2] != "measured":
        return None
    return face.signals[0], face.signals[1]


class SignalHold:
    """The last measured signals per track, carried over the frames between a track's readings (`skipped`), so
    the annotated video does not blink with `--signals N`. A face the landmarker could not read (`too_small`,
    `no_fit`) shows nothing; only the tracks of the current frame are kept, so memory stays bounded."""

    def __init__(self) -> None:
        self._last: dict[int, Shown] = {}

    def update(self, res: FrameResult) -> dict[int, Shown]:
        """What to draw for each face of `res` (by track id)."""
        shown: dict[int, Shown] = {}
        for face in res.records():
            now = measured(face)
            if now is not None:
                shown[face.track_id] = now
            elif face.signals is not None and face.signals[2] == "skipped" and face.track_id in self._last:
                shown[face.track_id] = self._last[face.track_id]
        self._last = shown
        return shown


def top_blendshapes(blendshapes: np.ndarray, k: int = TOP) -> list[tuple[str, float]]:
    """The `k` highest blendshape scores by name (`_neutral` left out: it says nothing of the face)."""
    order = [i for i in np.argsort(-np.nan_to_num(blendshapes, nan=-1.0), kind="stable")
             if not BLENDSHAPES[i].startswith("_")]
    return [(BLENDSHAPES[i], float(blendshapes[i])) for i in order[:k]]


def draw_signals(img: np.ndarray, box: tuple[int, int, int, int], shown: Shown, scale: float) -> None:
    """A pose gauge (a dot offset by yaw and pitch, a line tilted by roll) and the top blendshapes, on a filled
    backing under the box (inside its bottom edge where the frame ends), so they read on light and dark video."""
    bs, pose = shown
    x1, _, _, y2 = box
    h, w = img.shape[:2]
    font, fs, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.42 * scale, max(1, int(round(scale)))
    lines = [f"{n} {v:.2f}" for n, v in top_blendshapes(bs)]
    if np.isfinite(pose).all():
        lines.insert(0, f"y{pose[0]:+.0f} p{pose[1]:+.0f} r{pose[2]:+.0f}")
    (tw, th), base = cv2.getTextSize(max(lines, key=len), font, fs, thick)
    pad, row = max(2, int(round(3 * scale))), th + base + max(2, int(round(3 * scale)))
    r = max(8, int(round(16 * scale)))
    bw, bh = 2 * r + 3 * pad + tw, max(2 * r, row * len(lines)) + 2 * pad
    x0 = min(max(0, x1), max(0, w - bw))
    y0 = y2 + pad if y2 + pad + bh <= h else max(0, y2 - bh)
    cv2.rectangle(img, (x0, y0), (x0 + bw, y0 + bh), BACKING, -1)
    cx, cy = x0 + pad + r, y0 + pad + r
    cv2.circle(img, (cx, cy), r, RING, 1, cv2.LINE_AA)
    if np.isfinite(pose).all():
        yaw, pitch, roll = (float(v) for v in pose)
        a = np.radians(roll)  # counter-clockwise in the image is positive roll
        dx, dy = int(round(r * np.cos(a))), int(round(-r * np.sin(a)))
        cv2.line(img, (cx - dx, cy - dy), (cx + dx, cy + dy), RING, 1, cv2.LINE_AA)
        ox = int(round(r * np.clip(yaw / POSE_RANGE, -1, 1)))  # nose to the image's right: dot to the right
        oy = int(round(-r * np.clip(pitch / POSE_RANGE, -1, 1)))  # nose up: dot up
        cv2.circle(img, (cx + ox, cy + oy), max(2, r // 4), DOT, -1, cv2.LINE_AA)
    tx = x0 + 2 * r + 2 * pad
    for k, text in enumerate(lines):
        cv2.putText(img, text, (tx, y0 + pad + (k + 1) * row - base - pad // 2), font, fs, INK, thick, cv2.LINE_AA)


def draw_all_signals(img: np.ndarray, res: FrameResult, shown: Mapping[int, Shown] | None, scale: float) -> None:
    """Signals of every face that has them: `shown` by track id (a `SignalHold`'s), else what each face measured
    on this frame."""
    for face in res.records():
        s = shown.get(face.track_id) if shown is not None else measured(face)
        if s is not None:
            x1, y1, x2, y2 = (int(round(v)) for v in face.box)
            draw_signals(img, (x1, y1, x2, y2), s, scale)
