"""Keeps one id per person across frames: IoU matching with constant-velocity prediction, and tracks that survive
short misses (occlusion, a detector blink, frames where detection is skipped) so the id and the person's temporal
state come back with the face."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emotrace.faces.boxes import iou_matrix
from emotrace.types import Detections


@dataclass
class Track:
    """One person. `velocity` is box motion per second, so prediction is right under variable frame rate."""

    track_id: int
    box: np.ndarray
    keypoints: np.ndarray | None
    score: float
    last_seen: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    hits: int = 1
    born: float = 0.0  # when the track was first seen

    def predict(self, t: float) -> np.ndarray:
        dt = max(0.0, t - self.last_seen)
        return self.box + self.velocity * min(dt, 0.5)


class Tracker:
    """Greedy IoU association (faces are few; greedy equals optimal in practice) with a centre-distance fallback
    for fast motion, and track retention for `max_lost_s` seconds."""

    def __init__(self, iou_threshold: float = 0.25, max_lost_s: float = 1.5, center_gate: float = 1.2) -> None:
        self.iou_threshold = iou_threshold
        self.max_lost_s = max_lost_s
        self.center_gate = center_gate
        self.tracks: list[Track] = []
        self._next_id = 1
        self.ended: list[int] = []  # ids whose tracks expired since the last update (their state can be freed)
        # How well the last update confirmed the predictions: the lowest affinity (IoU where >= iou_threshold) of a
        # matched track and its detection; 0 when a face arrived, a tracked one was not found or none was seen.
        self.confirmed = 0.0
        self.youngest_s = float("inf")  # age of the youngest live track at the last update

    def _cost(self, pred: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Affinity: IoU, or where that is low, a score from centre distance relative to face size that passes the
        match bar (half the IoU threshold) up to `center_gate / 2` face sizes. IoU pairs are matched first."""
        aff = iou_matrix(pred, boxes)
        if len(pred) and len(boxes):
            cp = (pred[:, None, :2] + pred[:, None, 2:]) / 2
            cb = (boxes[None, :, :2] + boxes[None, :, 2:]) / 2
            size = np.maximum(pred[:, None, 2] - pred[:, None, 0], pred[:, None, 3] - pred[:, None, 1])
            dist = np.linalg.norm(cp - cb, axis=2) / np.maximum(size, 1.0)
            near = np.clip(1.0 - dist / self.center_gate, 0, 1) * self.iou_threshold
            aff = np.maximum(aff, near)
        return aff

    def update(self, dets: Detections, t: float) -> Detections:
        """Assign track ids to `dets` (detected at time t); returns dets with `track_id` set."""
        pred = np.array([tr.predict(t) for tr in self.tracks], np.float32).reshape(-1, 4)
        aff = self._cost(pred, dets.boxes)
        ids = np.zeros(len(dets), np.int64)
        used_t: set[int] = set()
        used_d: set[int] = set()
        lowest = 1.0
        if aff.size:
            for flat in np.argsort(-aff, axis=None):
                ti, di = np.unravel_index(flat, aff.shape)
                if aff[ti, di] < self.iou_threshold * 0.5:
                    break
                if ti in used_t or di in used_d:
                    continue
                used_t.add(int(ti))
                used_d.add(int(di))
                lowest = min(lowest, float(aff[ti, di]))
                tr = self.tracks[ti]
                dt = t - tr.last_seen
                if dt > 0:
                    inst = (dets.boxes[di] - tr.box) / dt
                    tr.velocity = 0.5 * tr.velocity + 0.5 * inst if tr.hits > 1 else inst * 0.5
                tr.box = dets.boxes[di].copy()
                tr.keypoints = None if dets.keypoints is None else dets.keypoints[di].copy()
                tr.score = float(dets.scores[di])
                tr.last_seen = t
                tr.hits += 1
                ids[di] = tr.track_id
        complete = len(dets) > 0 and len(used_d) == len(dets) and len(used_t) == len(self.tracks)
        self.confirmed = lowest if complete else 0.0
        for di in range(len(dets)):
            if di not in used_d:
                tr = Track(self._next_id, dets.boxes[di].copy(),
                           None if dets.keypoints is None else dets.keypoints[di].copy(), float(dets.scores[di]), t,
                           born=t)
                self._next_id += 1
                self.tracks.append(tr)
                ids[di] = tr.track_id
        alive = [tr for tr in self.tracks if t - tr.last_seen <= self.max_lost_s]
        self.ended = [tr.track_id for tr in self.tracks if t - tr.last_seen > self.max_lost_s]
        self.tracks = alive
        self.youngest_s = min((t - tr.born for tr in alive), default=float("inf"))
        dets.track_id = ids
        return dets

    def end_all(self) -> list[int]:
        """End every track (a shot cut); returns their ids so their state can be freed."""
        self.ended = [tr.track_id for tr in self.tracks]
        self.tracks = []
        return self.ended

    def coast(self, ids: np.ndarray, t: float) -> Detections:
        """Boxes of the given tracks predicted at time t, for frames where detection is skipped."""
        by_id = {tr.track_id: tr for tr in self.tracks}
        chosen = [by_id[i] for i in ids if i in by_id]
        if not chosen:
            return Detections.empty()
        boxes = np.array([tr.predict(t) for tr in chosen], np.float32)
        kps = None
        if all(tr.keypoints is not None for tr in chosen):
            kps = np.array([tr.keypoints + (tr.predict(t) - tr.box)[:2] for tr in chosen], np.float32)
        return Detections(boxes=boxes, scores=np.array([tr.score for tr in chosen], np.float32), keypoints=kps,
                          track_id=np.array([tr.track_id for tr in chosen], np.int64), data={"coasted": True})
