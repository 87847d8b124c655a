"""People, not tracks: the pipeline stage that gives every face a `person_id` shared by the tracks of one person
(after a cut, an occlusion, a look-away), and a `person_basis` saying what the id rests on.

A track's person is decided once, from its first `window_s` seconds (all of it if it ends sooner): the detector's
frames of that window are scored by size, sharpness and how frontal the face is, the best `per_track` are described
(`faces/identity.py`, about 150 ms each, so a few per track and never one per frame) and linked to the people seen
so far (`faces/linking.py`). Descriptors are computed only when there is someone to compare with: a track with no
earlier person it could join (the first face of a file, or every earlier person seen beside it) is a new person at
once, its best frames kept (a small region each) and described when a later track needs them, or when
`person_descriptors()` is asked. So a one-person video computes none; the ids are those of describing every track.
Groups of frames wait here until every face in them has its person, so every row
leaves the pipeline with its final `person_id` (files: at most `window_s` more delay; the live path decides on a
track's first frame). A track with no usable frame in its window keeps a person of its own, and its basis says why
(`too_small`, `unclear`). The faces of a photo that stands alone are each a person of their own (`photo`); a usable
one is described if `person_descriptors()` asks, so that batch links photos across items.

`person_basis`: `face` (decided from face descriptors), `too_small` (no face of the window as large as
`MIN_PERSON_PX`), `unclear` (large enough, but blurred or turned away), `photo`.

At the end of a source, `person_descriptors()` gives each described person's mean descriptor (over the chosen
frames of all its tracks): what `emotrace batch` links across files (`faces/clustering.py`). It is summed as
tracks are described; persons never compared with anyone are described then, after the frame loop.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from emotrace.faces.linking import PersonLinker
from emotrace.types import Detections, Frame

WINDOW_S = 1.0  # a track's person is decided from its first second
PER_TRACK = 3  # descriptors per track
MIN_PERSON_PX = 40  # faces smaller than this (short side) give no descriptor (docs/people.md: CK+'s 48 px faces)
MAX_OFF_CENTRE = 0.3  # nose offset from the eyes' midpoint over the eye distance: more is a turned face
MIN_SHARPNESS = 20.0  # variance of the Laplacian of the face resized to 64 px: less is a blurred face
SHARP_REF = 200.0  # sharpness that scores full marks
PHOTO_FACES_BYTES = 64 * 2**20  # photo faces kept for `person_descriptors()`: a bound for a folder of many photos
Group = list[tuple[Frame, Detections, bool]]


def face_quality(image: np.ndarray, box: np.ndarray, keypoints: np.ndarray | None,
                 min_px: int = MIN_PERSON_PX) -> tuple[float, str]:
    """How good a face is for a descriptor (0 = unusable) and, when unusable, why (`too_small` or `unclear`)."""
    side = float(min(box[2] - box[0], box[3] - box[1]))
    if side < min_px:
        return 0.0, "too_small"
    off = 0.0
    if keypoints is not None and len(keypoints) >= 3:
        eyes = keypoints[:2]
        dist = float(np.linalg.norm(eyes[1] - eyes[0]))
        off = abs(float(keypoints[2][0] - eyes[:, 0].mean())) / dist if dist > 0 else 1.0
        if off > MAX_OFF_CENTRE:
            return 0.0, "unclear"
    h, w = image.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return 0.0, "unclear"
    gray = cv2.cvtColor(cv2.resize(image[y1:y2, x1:x2], (64, 64), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    sharp = float(cv2.Laplacian(gray, cv2.CV_32F).var())
    if sharp < MIN_SHARPNESS:
        return 0.0, "unclear"
    return min(side, 160.0) / 160.0 * (1.0 - off) * min(1.0, sharp / SHARP_REF), ""


def face_region(image: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A copy of the face's surroundings (the box grown by half its size each way) and the box within it: what a
    candidate keeps instead of its whole frame."""
    h, w = image.shape[:2]
    bw, bh = box[2] - box[0], box[3] - box[1]
    x1, y1 = max(0, int(box[0] - bw / 2)), max(0, int(box[1] - bh / 2))
    x2, y2 = min(w, int(np.ceil(box[2] + bw / 2))), min(h, int(np.ceil(box[3] + bh / 2)))
    return image[y1:y2, x1:x2].copy(), (box - np.array([x1, y1, x1, y1], np.float32)).astype(np.float32)


@dataclass
class _Track:
    first_t: float
    candidates: list[tuple[float, int, np.ndarray, np.ndarray]] = field(default_factory=list)  # score, n, region, box
    apart: set[int] = field(default_factory=set)  # tracks seen in the same frames
    seen: int = 0
    why: str = "too_small"  # the reason a track with no candidate gives: the best reason any frame gave


class PeopleStage:
    """Person ids for the faces of a source's groups of frames, in order; `feed` holds a group until all its
    faces' tracks are decided. `embed([(image, box), ...]) -> (N, D)`: the descriptor (a `FaceEmbedder`), called
    once per track that must be compared (with the undescribed people it is compared with); `warm()`: its loading,
    started when a source's second track appears."""

    def __init__(self, max_distance: float, embed: Callable[[list[tuple[np.ndarray, np.ndarray]]], np.ndarray],
                 window_s: float = WINDOW_S, per_track: int = PER_TRACK, min_px: int = MIN_PERSON_PX,
                 warm: Callable[[], None] | None = None) -> None:
        self.max_distance = max_distance
        self.embed = embed
        self.warm = warm  # called when a source's second track appears: the descriptor may be needed a window later
        self.window_s = window_s
        self.per_track = per_track
        self.min_px = min_px
        self.reset()

    def reset(self) -> None:
        """A new source: people are per source, numbered from 1."""
        self.linker = PersonLinker(self.max_distance, embed=self.embed)
        self._open: dict[int, _Track] = {}
        self._decided: dict[int, tuple[int, str]] = {}  # track id -> person id, basis
        self._held: deque[tuple[Group, list[int]]] = deque()
        self._order = 0
        self._sum: dict[int, np.ndarray] = {}  # person id -> sum of its tracks' descriptors
        self._count: dict[int, int] = {}
        self._photo_faces: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}  # never linked in a source
        self._photo_bytes = 0
        self._photo_described = 0
        self._photo_seconds = 0.0

    @property
    def descriptors(self) -> int:
        """Faces described for this source (cost, in tests and benchmarks)."""
        return self.linker.described + self._photo_described

    @property
    def seconds(self) -> float:
        """Time spent describing them."""
        return self.linker.seconds + self._photo_seconds

    def feed(self, group: Group, drops: list[int], window_s: float | None = None) -> list[tuple[Group, list[int]]]:
        """Take a group (with the tracks that ended in it) and return the held groups now complete, in order."""
        window = self.window_s if window_s is None else window_s
        for frame, faces, detected in group:
            self._see(frame, faces, detected)
        if group:
            now = group[-1][0].timestamp
            ended = set(drops)
            self._decide([t for t, tr in self._open.items() if t in ended or now - tr.first_t >= window])
        self._held.append((group, drops))
        return self._release()

    def flush(self) -> list[tuple[Group, list[int]]]:
        """The end of the source: decide every open track and return every held group."""
        self._decide(list(self._open))
        return self._release()

    def photos(self, group: Group) -> None:
        """Faces of photos that stand alone: each a person of its own. A face good enough to describe keeps its
        region, described only if `person_descriptors()` is asked (batch links photos across items by it, one photo
        an item); a source of many photos keeps the first `PHOTO_FACES_BYTES` of them, the rest get none."""
        for frame, faces, _ in group:
            n = len(faces)
            faces.person_id = np.array([self.linker.new() for _ in range(n)], np.int64)
            faces.person_basis = np.full(n, "photo", dtype=object)
            for i, pid in enumerate(faces.person_id.tolist()):
                kp = None if faces.keypoints is None else faces.keypoints[i]
                if not face_quality(frame.image, faces.boxes[i], kp, self.min_px)[0]:
                    continue
                region, box = face_region(frame.image, faces.boxes[i])
                if self._photo_bytes + region.nbytes <= PHOTO_FACES_BYTES:  # batch: one photo per source
                    self._photo_faces[pid] = [(region, box)]
                    self._photo_bytes += region.nbytes

    def person_descriptors(self) -> dict[int, tuple[np.ndarray, int]]:
        """Each described person of this source: the mean of its tracks' chosen descriptors (D,) and how many
        there were (a photo's face: its one descriptor). People with no usable face (`too_small`, `unclear`, a
        photo's face too small, blurred or turned away) have none. Persons never compared with anyone, and photos'
        faces, are described now."""
        for pid, desc in self.linker.describe_waiting().items():
            self._add(pid, desc)
        if self._photo_faces:
            pids = list(self._photo_faces)
            faces = [f for pid in pids for f in self._photo_faces.pop(pid)]
            start = time.perf_counter()
            desc = self.embed(faces)
            self._photo_seconds += time.perf_counter() - start
            self._photo_described += len(faces)
            for k, pid in enumerate(pids):  # one face each
                self._add(pid, desc[k:k + 1])
        return {pid: (self._sum[pid] / self._count[pid], self._count[pid]) for pid in sorted(self._sum)}

    def _see(self, frame: Frame, faces: Detections, detected: bool) -> None:
        ids = [] if faces.track_id is None else [int(t) for t in faces.track_id]
        for i, tid in enumerate(ids):
            if tid in self._decided:
                continue
            tr = self._open.get(tid)
            if tr is None:
                tr = self._open[tid] = _Track(first_t=frame.timestamp)
                if self.warm is not None and len(self._open) + len(self._decided) == 2:
                    self.warm()
            tr.apart.update(t for t in ids if t != tid)
            if not detected:
                continue  # a box the tracker carried over a skipped frame: no keypoints to judge it by
            kp = None if faces.keypoints is None else faces.keypoints[i]
            score, why = face_quality(frame.image, faces.boxes[i], kp, self.min_px)
            tr.seen += 1
            if not score:
                if why == "unclear":
                    tr.why = why
                continue
            if len(tr.candidates) < self.per_track or score > tr.candidates[-1][0]:
                region, box = face_region(frame.image, faces.boxes[i])
                tr.candidates.append((score, -self._order, region, box))
                tr.candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)  # best first, earlier on ties
                del tr.candidates[self.per_track:]
            self._order += 1

    def _decide(self, track_ids: list[int]) -> None:
        """Decide these tracks' persons, in id order (the linker describes their faces only when it must compare)."""
        for tid in sorted(track_ids):
            tr = self._open.pop(tid)
            if not tr.candidates:
                self._decided[tid] = (self.linker.new(tid), tr.why)
                continue
            faces = [(region, box) for _, _, region, box in tr.candidates]
            pid, described = self.linker.decide(tid, faces, apart_from=tr.apart)
            for who, desc in described.items():
                self._add(who, desc)
            self._decided[tid] = (pid, "face")

    def _add(self, pid: int, desc: np.ndarray) -> None:
        got = desc.astype(np.float64).sum(0)
        self._sum[pid] = self._sum[pid] + got if pid in self._sum else got
        self._count[pid] = self._count.get(pid, 0) + len(desc)

    def _release(self) -> list[tuple[Group, list[int]]]:
        out = []
        while self._held and all(int(t) in self._decided for _, faces, _ in self._held[0][0]
                                 for t in ([] if faces.track_id is None else faces.track_id)):
            group, drops = self._held.popleft()
            for _, faces, _ in group:
                got = [self._decided[int(t)] for t in ([] if faces.track_id is None else faces.track_id)]
                faces.person_id = np.array([g[0] for g in got], np.int64)
                faces.person_basis = np.array([g[1] for g in got], dtype=object)
            out.append((group, drops))
        return out
