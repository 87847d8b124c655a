"""When the detector runs. Detecting every frame while nothing changes buys no better answer, and detecting every
Nth frame blindly misses faces that arrive, leave or move between two detections: so the interval stretches
(1, 2, 4, ... up to `max_every`) only while every detection confirms the tracker's prediction, and falls back to
every frame as soon as anything changes (a new face, a lost one, a face that moved unlike its prediction, or a
picture that changed between detections)."""

from __future__ import annotations

import cv2
import numpy as np

THUMB = (32, 18)  # the whole picture, grey, for the change check between detections (every 4th pixel, area-averaged)


class DetectionSchedule:
    """Says on which frames to detect. `max_every` 1 detects on every frame.

    Steady means: the last detection matched every tracked face and found no new one, each detected box overlaps
    its predicted box at IoU >= `steady_iou` (a face leaving is a lost track; one arriving changes the picture), and
    the picture since then has not changed by more than `change` grey levels on average (a face
    turning, a hand in front, someone entering: the detector runs on that frame).
    """

    def __init__(self, max_every: int = 4, steady_iou: float = 0.8, change: float = 6.0, young_s: float = 0.0,
                 young_every: int = 2) -> None:
        self.max_every = max(1, int(max_every))
        self.young_s = young_s  # while a track is younger than this, detect at least every `young_every` frames
        self.young_every = young_every
        self.steady_iou = steady_iou
        self.change = change
        self.interval = 1
        self._since = 0
        self._thumb: np.ndarray | None = None

    def due(self, image: np.ndarray, tracking: bool) -> bool:
        """Whether to detect on this frame (`tracking`: faces are being carried)."""
        if self.max_every == 1 or not tracking or self._thumb is None or self._since + 1 >= self.interval:
            return True
        if float(np.mean(cv2.absdiff(_thumb(image), self._thumb))) > self.change:
            return True
        self._since += 1
        return False

    def detected(self, image: np.ndarray, confirmed: float, youngest_s: float = float("inf")) -> None:
        """After a detection: `confirmed` is the tracker's word on it (`Tracker.confirmed`: the lowest IoU of a
        tracked face and its detection, 0 when a face arrived or went missing). Stretches the interval when
        steady, else back to 1. While the youngest track (`Tracker.youngest_s`) is younger than `young_s` (the
        window the people stage picks a track's best frames from), the interval stays at most `young_every`: a
        carried face keeps its last detection's landmarks, so a head turning to the camera would go unseen."""
        self._since = 0
        self._thumb = _thumb(image) if self.max_every > 1 else None
        cap = min(self.max_every, self.young_every) if youngest_s < self.young_s else self.max_every
        self.interval = min(self.interval * 2, cap) if confirmed >= self.steady_iou else 1


def _thumb(image: np.ndarray) -> np.ndarray:
    small = cv2.resize(image[::4, ::4], THUMB, interpolation=cv2.INTER_AREA)  # every 4th pixel first: 16x cheaper
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
