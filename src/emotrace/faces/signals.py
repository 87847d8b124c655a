"""Face signals beside the emotion: 52 blendshape scores, head pose and 478 3-D landmarks per face, from MediaPipe's
Face Landmarker (`faces/assets/face_landmarker.task`, Apache-2.0, shipped in the package, checked by SHA-256).

It runs where the faces already are: on a square crop of the frame around each tracked box (no second full-frame
detection), every frame or every Nth frame of a track (`signals` in the analyzer config), because one face costs
about as much as the rest of a frame's analysis. A face the landmarker cannot fit (too small, profile, occluded)
keeps empty signal columns and says why in `signals`; it never shifts other columns.

Head pose comes from the facial transformation matrix (MediaPipe's camera: x right, y up, looking down -z), as the
direction the nose points: `yaw` > 0 when it points to the image's right (the subject's left), `pitch` > 0 when it
points up, `roll` > 0 when the face is turned counter-clockwise in the image. A mirrored image gives -yaw, the same
pitch and -roll (tested). Blendshapes approximate FACS action units (docs/signals.md); they are not certified AU
intensities.
"""

from __future__ import annotations

import hashlib
import math
import threading
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from emotrace.errors import EmotraceError
from emotrace.faces.signal_names import BLENDSHAPES, N_LANDMARKS
from emotrace.types import Detections, Signals

TASK_FILE = "face_landmarker.task"
TASK_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MIN_FACE_PX = 24  # a box smaller than this carries too few pixels for 478 landmarks
CROP_SCALE = 1.8  # the crop's side over the box's longer side: the landmarker's own detector wants some margin
CROP_PX = 256  # the crop is resized to this side (the landmark model's input size)
# Quality flags: a pose or state where expression readings (ours and the frame model's) are less trustworthy.
PROFILE_YAW, DOWN_PITCH, CLOSED_BLINK, GAZE_DOWN = 45.0, -25.0, 0.5, 0.5


def task_path() -> Path:
    """The shipped Face Landmarker bundle, its SHA-256 checked (once per process)."""
    path = Path(str(files("emotrace.faces") / "assets" / TASK_FILE))
    _check(str(path))
    return path


@lru_cache(maxsize=4)
def _check(path: str) -> None:
    if not Path(path).is_file():
        raise EmotraceError(f"face signals need {path}, which is missing from this installation")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if digest != TASK_SHA256:
        raise EmotraceError(f"{path} is not the Face Landmarker emotrace ships (SHA-256 {digest[:12]}...)")


def head_pose(matrix: np.ndarray) -> np.ndarray:
    """Yaw, pitch and roll in degrees from a 4x4 facial transformation matrix (conventions: module docstring)."""
    r = np.asarray(matrix, np.float64)[:3, :3]
    fx, fy, fz = r[:, 2]  # where the face's forward axis (the nose) points, in camera coordinates
    return np.array([math.degrees(math.atan2(fx, fz)), math.degrees(math.atan2(fy, fz)),
                     math.degrees(math.atan2(r[1, 0], r[0, 0]))], np.float32)


def quality_flags(pose: np.ndarray, blendshapes: np.ndarray) -> str:
    """`profile`, `looking_down` and/or `eyes_closed`, joined by `|`; empty for a frontal, open-eyed face. Eyes
    that look down read as half closed to the landmarker too: that face is looking down, not blinking."""
    def both(name: str) -> float:
        return float(min(blendshapes[BLENDSHAPES.index(f"{name}Left")], blendshapes[BLENDSHAPES.index(f"{name}Right")]))

    flags = []
    if abs(float(pose[0])) > PROFILE_YAW:
        flags.append("profile")
    gaze_down = both("eyeLookDown") > GAZE_DOWN
    if float(pose[1]) < DOWN_PITCH or gaze_down:
        flags.append("looking_down")
    if both("eyeBlink") > CLOSED_BLINK and not gaze_down:
        flags.append("eyes_closed")
    return "|".join(flags)


# What a temporal model may read beside the frame model's embedding (`TemporalConfig.signals`, seed 1's proposal of
# action units stacked before the LSTM): the 52 blendshapes, yaw/pitch/roll over 90 degrees, and 1 where the face
# was measured (a face that was not is all zeros, and says so in the last value).
SIGNAL_FEATURES = len(BLENDSHAPES) + 4


def signal_features(signals: Signals) -> np.ndarray:
    """(N, SIGNAL_FEATURES) float32 of a frame's faces, zeros where a face was not measured."""
    measured = signals.status == "measured"
    out = np.zeros((len(measured), SIGNAL_FEATURES), np.float32)
    out[measured, :len(BLENDSHAPES)] = signals.blendshapes[measured]
    out[measured, len(BLENDSHAPES):-1] = signals.pose[measured] / 90.0
    out[measured, -1] = 1.0
    return out


def square_crop(image: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """A square RGB crop of `image` (BGR) around `box`, `CROP_PX` a side, padded with the edge where it leaves the
    frame; returns it with its top-left corner in the frame and its side in frame pixels."""
    import cv2

    x1, y1, x2, y2 = (float(v) for v in box)
    side = CROP_SCALE * max(x2 - x1, y2 - y1)
    x0, y0 = (x1 + x2) / 2 - side / 2, (y1 + y2) / 2 - side / 2
    scale = CROP_PX / side
    warp = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], np.float32)
    crop = cv2.warpAffine(image, warp, (CROP_PX, CROP_PX), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(crop[..., ::-1]), x0, y0, side


class SignalReader:
    """Blendshapes, head pose and landmarks of the faces of a frame, every `every` frames of each track."""

    def __init__(self, every: int = 1) -> None:
        if every < 1:
            raise EmotraceError(f"signals every {every} frames: give 1 or more (0 turns them off)")
        self.every = every
        self._seen: dict[int, int] = {}  # track id -> frames seen
        self._lock = threading.Lock()  # one landmarker graph, used by one frame at a time
        vision, self._image = _vision()
        from mediapipe.tasks.python.core.base_options import BaseOptions

        opts = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(task_path())), running_mode=vision.RunningMode.IMAGE,
            num_faces=1, output_face_blendshapes=True, output_facial_transformation_matrixes=True)
        self._landmarker = vision.FaceLandmarker.create_from_options(opts)

    def read(self, image: np.ndarray, faces: Detections, still: bool = False) -> Signals:
        """Signals of every face of a frame: measured on the faces whose turn it is (every face of a photo),
        `skipped` on the others."""
        n = len(faces)
        out = Signals.empty(n, len(BLENDSHAPES), N_LANDMARKS)
        for i in range(n):
            if not still and faces.track_id is not None:
                tid = int(faces.track_id[i])
                seen = self._seen.get(tid, 0)
                self._seen[tid] = seen + 1
                if seen % self.every:
                    out.status[i] = "skipped"
                    continue
            self._measure(image, faces.boxes[i], out, i)
        return out

    def _measure(self, image: np.ndarray, box: np.ndarray, out: Signals, i: int) -> None:
        if min(box[2] - box[0], box[3] - box[1]) < MIN_FACE_PX:
            out.status[i] = "too_small"
            return
        crop, x0, y0, side = square_crop(image, box)
        with self._lock:
            res = self._landmarker.detect(self._image(image_format=_srgb(), data=crop))
        if not res.face_landmarks:
            out.status[i] = "no_fit"
            return
        scores = res.face_blendshapes[0]
        if tuple(c.category_name for c in scores) != BLENDSHAPES:  # the columns are named by position
            raise EmotraceError("the Face Landmarker's blendshapes are not the 52 emotrace names, in its order")
        lm = np.array([(p.x, p.y, p.z) for p in res.face_landmarks[0]], np.float32)
        out.landmarks[i] = np.column_stack([x0 + lm[:, 0] * side, y0 + lm[:, 1] * side, lm[:, 2] * side])
        out.blendshapes[i] = [c.score for c in scores]
        out.pose[i] = head_pose(np.asarray(res.facial_transformation_matrixes[0]))
        out.status[i] = "measured"
        out.quality[i] = quality_flags(out.pose[i], out.blendshapes[i])

    def drop(self, track_ids: list[int]) -> None:
        """Forget tracks that ended."""
        for tid in track_ids:
            self._seen.pop(tid, None)

    def reset(self) -> None:
        self._seen.clear()

    def close(self) -> None:
        self._landmarker.close()


def _vision() -> tuple[object, object]:
    from emotrace.faces.mediapipe_import import vision_tasks

    return vision_tasks()


def _srgb() -> object:
    import mediapipe as mp

    return mp.ImageFormat.SRGB
