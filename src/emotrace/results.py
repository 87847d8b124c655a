"""What the pipeline gives per frame: `FrameResult`, a frame with its `Detections`, and `FaceRecord`, one face of
it under the names every output uses (beside `types.py`, below the analyzer, so the sinks, the web app and batch
read results without importing the pipeline).

The names and rounding of a face's fields are stated here once: the table outputs (`sinks/rows.py` adds the
column types), the live WebSocket and the web results use `FaceRecord.fields`; the summary, the drawing and the
timelines read the same record's unrounded values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emotrace.types import Detections, Frame

# Decimal digits each kind of value is written with.
TIME_DIGITS, BOX_DIGITS, SCORE_DIGITS, PROB_DIGITS, ANGLE_DIGITS = 6, 1, 4, 5, 2

FRAME_FIELDS = ("file", "frame", "timestamp", "n_faces")
POSE_FIELDS = ("yaw", "pitch", "roll")
PERSON_FIELDS = ("person_id", "person_basis")


def blendshape_fields() -> list[str]:
    """`bs_<name>` for each of the landmarker's 52 blendshapes (`_neutral` as `bs_neutral`)."""
    from emotrace.faces.signal_names import BLENDSHAPES

    return [f"bs_{name.lstrip('_')}" for name in BLENDSHAPES]


def face_fields(classes: list[str], with_va: bool = False, with_signals: bool = False,
                with_people: bool = False) -> list[str]:
    """The names of a face's fields, in table order: `frame_*` the frame model's probabilities, `temporal_*` the
    temporal model's, `label` its top class and `label_prob` that class's probability; with signals, whether they
    were measured on this frame (`signals`), quality flags, head pose and the blendshapes, last of all; with
    people, before them, the person's id and what it rests on (`faces/people.py`). Each optional group comes after
    every column that is always there, so turning one on moves none of those."""
    cols = ["track_id", "x1", "y1", "x2", "y2", "det_score", "detected", "crop"]
    cols += [f"frame_{c}" for c in classes] + [f"temporal_{c}" for c in classes]
    cols += ["label", "label_prob", "frame_label"]
    if with_va:
        cols += ["valence", "arousal"]
    if with_people:
        cols += PERSON_FIELDS
    if with_signals:
        cols += ["signals", "signals_quality", *POSE_FIELDS, *blendshape_fields()]
    return cols


def _rounded(values: np.ndarray, digits: int) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), digits) for v in values]


@dataclass(frozen=True)
class FaceRecord:
    """One face of one frame, unrounded (the arrays are rows of the frame's `Detections`)."""

    track_id: int
    box: np.ndarray  # x1, y1, x2, y2 in pixels
    det_score: float
    detected: bool  # False when the tracker carried the face over a frame where the detector was skipped
    crop: bool
    frame_probs: np.ndarray
    temporal_probs: np.ndarray
    valence_arousal: np.ndarray | None
    signals: tuple[np.ndarray, np.ndarray, str, str] | None = None  # blendshapes, pose, status, quality
    person_id: int | None = None  # the person the face's track was linked to (None where people are off)
    person_basis: str | None = None  # what person_id rests on: face, too_small, unclear, photo

    @property
    def top(self) -> int:
        """Index of the temporal model's top class (the face's label)."""
        return int(np.argmax(self.temporal_probs))

    @property
    def frame_top(self) -> int:
        """Index of the frame model's top class."""
        return int(np.argmax(self.frame_probs))

    def fields(self, classes: list[str], with_va: bool = False, with_signals: bool = False,
               with_people: bool = False) -> dict[str, Any]:
        """The face as named, rounded values (`face_fields` order); valence and arousal are None where the model
        has no such head, signal values None where the face was not measured."""
        x1, y1, x2, y2 = (round(float(v), BOX_DIGITS) for v in self.box)
        fp, tp, top = self.frame_probs, self.temporal_probs, self.top
        row: dict[str, Any] = {"track_id": self.track_id, "x1": x1, "y1": y1, "x2": x2, "y2": y2,
                               "det_score": round(self.det_score, SCORE_DIGITS), "detected": self.detected,
                               "crop": self.crop}
        row.update({f"frame_{c}": round(float(fp[k]), PROB_DIGITS) for k, c in enumerate(classes)})
        row.update({f"temporal_{c}": round(float(tp[k]), PROB_DIGITS) for k, c in enumerate(classes)})
        row.update({"label": classes[top], "label_prob": round(float(tp[top]), PROB_DIGITS),
                    "frame_label": classes[self.frame_top]})
        if with_va:
            va = self.valence_arousal
            row["valence"] = None if va is None else round(float(va[0]), PROB_DIGITS)
            row["arousal"] = None if va is None else round(float(va[1]), PROB_DIGITS)
        if with_people:
            row.update({"person_id": self.person_id, "person_basis": self.person_basis})
        if with_signals:
            names = blendshape_fields()
            if self.signals is None:
                row.update(dict.fromkeys(["signals", "signals_quality", *POSE_FIELDS, *names]))
            else:
                bs, pose, status, quality = self.signals
                row.update({"signals": status, "signals_quality": quality})
                row.update(zip(POSE_FIELDS, _rounded(pose, ANGLE_DIGITS), strict=True))
                row.update(zip(names, _rounded(bs, SCORE_DIGITS), strict=True))
        return row


@dataclass
class FrameResult:
    """A frame and its faces; `faces.data` holds `frame_probs`, `temporal_probs`, `embedding` and, where a model
    has that head, `valence_arousal` (the temporal model's if it has one, else the frame model's)."""

    frame: Frame
    faces: Detections
    detected: bool = True  # False on frames where the detector was skipped and faces were carried by the tracker
    info: dict[str, Any] = field(default_factory=dict)

    def frame_fields(self) -> dict[str, Any]:
        """The frame's own fields (`FRAME_FIELDS`): the file it came from, its index, time and face count."""
        return {"file": self.frame.source, "frame": self.frame.index,
                "timestamp": round(float(self.frame.timestamp), TIME_DIGITS), "n_faces": len(self.faces)}

    def records(self) -> list[FaceRecord]:
        """Every face of the frame as a record."""
        f = self.faces
        va, sig, pid, basis = f.valence_arousal, f.signals, f.person_id, f.person_basis
        return [FaceRecord(track_id=int(f.track_id[i]), box=f.boxes[i], det_score=float(f.scores[i]),
                           detected=bool(self.detected), crop=bool(f.crop[i]) if f.crop is not None else False,
                           frame_probs=f.frame_probs[i], temporal_probs=f.temporal_probs[i],
                           valence_arousal=None if va is None else va[i],
                           signals=None if sig is None else (sig.blendshapes[i], sig.pose[i], str(sig.status[i]),
                                                             str(sig.quality[i])),
                           person_id=None if pid is None else int(pid[i]),
                           person_basis=None if basis is None else str(basis[i]))
                for i in range(len(f))]
