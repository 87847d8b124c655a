"""What the pipeline gives per frame: `FrameResult`, a frame with its `Detections` (beside `types.py`, below the
analyzer, so the sinks, the web app and batch read results without importing the pipeline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emotrace.types import Detections, Frame


@dataclass
class FrameResult:
    """A frame and its faces; `faces.data` holds `frame_probs`, `temporal_probs`, `embedding` and, where a model
    has that head, `valence_arousal` (the temporal model's if it has one, else the frame model's)."""

    frame: Frame
    faces: Detections
    detected: bool = True  # False on frames where the detector was skipped and faces were carried by the tracker
    info: dict[str, Any] = field(default_factory=dict)
