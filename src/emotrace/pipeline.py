"""The Analyzer: source -> detect -> track -> align -> frame model -> temporal model -> results.

One object serves files (`analyze`), live windows and servers (`stream`, `process_frame`): only the source and the
sinks change. Frames are processed in small groups so that every face of several frames goes through the frame
model in one batch; memory is bounded by that group, not by the video's length. State that belongs to a person
(tracker entry, temporal hidden state) lives with the track id and is freed when the track ends.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emotrace.errors import EmotraceError
from emotrace.faces.align import FaceAligner
from emotrace.faces.detectors import create_detector
from emotrace.faces.mask import MeshMasker, apply_oval
from emotrace.faces.photo import PhotoFaceFinder
from emotrace.faces.shotcut import ShotCutDetector
from emotrace.faces.tracker import Tracker
from emotrace.models.runtime import FrameModelRunner
from emotrace.models.temporal.smoothing import TemporalStage, create_temporal
from emotrace.types import Detections, Frame

log = logging.getLogger("emotrace")

GROUPS_AHEAD = 2  # frame groups found and tracked ahead of the models when `stream(threaded=True)`


@dataclass
class AnalyzerConfig:
    """Every knob of the pipeline (YAML-loadable)."""

    detector: str = "auto"  # auto | blazeface | haar
    min_score: float = 0.7  # BlazeFace fires at 0.53-0.68 on cartoon titles in ../shared/media; real faces score > 0.7
    detect_every: int = 3  # run the detector on every n-th frame; the tracker carries faces in between
    frame_model: str = "default"
    runtime: str = "auto"  # auto | onnx | torch
    temporal: str = "auto"  # auto | ema | ema:<tau s> | hmm | hmm:<switches/s> | shipped temporal name [+lookahead]
    offline: bool = True  # files (not live sources) under `temporal: auto` use the shipped look-ahead model
    batch_frames: int = 8  # frames whose faces share one model batch (1 for live use)
    mask: str = "none"  # none | oval | mesh
    max_lost_s: float = 1.5
    shot_cut_threshold: float = 0.25  # histogram distance that ends every track (0 disables)
    min_face_px: int = 12
    assume_crop: bool = False  # photos are face crops: classify each whole when the detector finds no face in it
    threads: int = 0  # the frame model's threads, 0 = library default (temporal steps run on one)

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Refuse values that would run but give wrong results; the one check behind the CLI, the Python API,
        config files and the web app, so every entry point says the same thing."""
        check_analyzer_config(self)


DETECTORS = ("auto", "blazeface", "haar")
RUNTIMES = ("auto", "onnx", "torch")
MASKS = ("none", "oval", "mesh")


def _number(name: str, v: Any, lo: float, hi: float | None = None, integer: bool = False) -> None:
    kind = "a whole number" if integer else "a number"
    ok = not isinstance(v, bool) and (isinstance(v, int) if integer else isinstance(v, (int, float)))
    if ok and v == v and v >= lo and (hi is None or v <= hi):  # v == v: not NaN
        return
    rng = f"{lo:g} or more" if hi is None else f"from {lo:g} to {hi:g}"
    raise EmotraceError(f"{name} must be {kind} {rng} (got {v!r})")


def temporal_choices() -> list[str]:
    """Every value `temporal` accepts, for messages."""
    from emotrace.models.manifest import manifest

    shipped = sorted(k for k, v in manifest().items() if v.role == "temporal")
    return ["auto", "ema", "ema:<seconds>", "hmm", "hmm:<switches per second>", *shipped,
            "a temporal training run folder", "any of these +lookahead"]


def check_analyzer_config(cfg: AnalyzerConfig) -> None:
    """Raise EmotraceError (one line, naming the option and what it accepts) for any value out of range."""
    for name, value, allowed in (("detector", cfg.detector, DETECTORS), ("runtime", cfg.runtime, RUNTIMES),
                                 ("mask", cfg.mask, MASKS)):
        if value not in allowed:
            raise EmotraceError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    _number("min_score", cfg.min_score, 0.0, 1.0)
    _number("detect_every", cfg.detect_every, 1, integer=True)
    _number("batch_frames", cfg.batch_frames, 1, integer=True)
    _number("max_lost_s", cfg.max_lost_s, 0.0)
    _number("shot_cut_threshold", cfg.shot_cut_threshold, 0.0, 1.0)
    _number("min_face_px", cfg.min_face_px, 1, integer=True)
    _number("threads", cfg.threads, 0, 1024, integer=True)
    if not isinstance(cfg.frame_model, str) or not cfg.frame_model:
        raise EmotraceError(f"frame_model must be a shipped weights name or 'default' (got {cfg.frame_model!r})")
    t = cfg.temporal
    if not isinstance(t, str) or not t:
        raise EmotraceError(f"temporal must be one of {', '.join(temporal_choices())} (got {t!r})")
    base = (t[:-len("+lookahead")] or "auto") if t.endswith("+lookahead") else t
    if base.startswith(("ema:", "hmm:")):
        try:
            tau = float(base.split(":", 1)[1])
        except ValueError:
            tau = float("nan")
        if not (tau > 0 and tau < float("inf")):
            what = ("the time constant must be a number of seconds above 0 (ema:0.4)" if base.startswith("ema:")
                    else "the switch rate must be a number of label switches per second above 0 (hmm:1.0)")
            raise EmotraceError(f"temporal {t!r}: {what}")
    elif base not in ("auto", "ema", "hmm") and base not in temporal_choices() and not Path(base).expanduser().exists():
        raise EmotraceError(f"temporal must be one of {', '.join(temporal_choices())} (got {t!r})")


@dataclass
class FrameResult:
    """A frame and its faces; `faces.data` holds `frame_probs`, `temporal_probs`, `embedding` and, where a model
    has that head, `valence_arousal` (the temporal model's if it has one, else the frame model's)."""

    frame: Frame
    faces: Detections
    detected: bool = True  # False on frames where the detector was skipped and faces were carried by the tracker
    info: dict[str, Any] = field(default_factory=dict)


class Analyzer:
    """Streaming face-emotion analysis. Create once, feed any number of sources (call `reset` between them)."""

    def __init__(self, config: AnalyzerConfig | None = None, **overrides: Any) -> None:
        cfg = config or AnalyzerConfig()
        for k, v in overrides.items():
            if not hasattr(cfg, k):
                raise TypeError(f"unknown Analyzer option {k!r}")
            setattr(cfg, k, v)
        cfg.check()
        self.config = cfg
        kwargs: dict[str, Any] = {"min_score": cfg.min_score} if cfg.detector in ("auto", "blazeface") else {}
        self.detector = create_detector(cfg.detector, **kwargs)
        self.photo_faces = PhotoFaceFinder(self.detector, cfg.min_face_px, cfg.detector)
        self.model = FrameModelRunner(cfg.frame_model, runtime=cfg.runtime, threads=cfg.threads)
        self.aligner = FaceAligner(size=self.model.input_size)
        self.causal = create_temporal(cfg.temporal, frame_model=self.model.name, runtime=self.model.runtime)
        self._offline: TemporalStage | None = None
        self.temporal = self.causal  # the stage in use; `select_temporal` switches it per source
        self.classes = self.model.classes
        self._masker = MeshMasker() if cfg.mask == "mesh" else None
        self.reset()

    def describe(self) -> dict[str, Any]:
        """What runs at each stage, for logs, reports and summaries."""
        return {"detector": self.detector.name, "detect_every": self.config.detect_every,
                "frame_model": self.model.describe(), "temporal_stage": self.temporal.name,
                "temporal_description": self.temporal.description, "temporal_mode": self.temporal.mode,
                "mask": self.config.mask,
                "valence_arousal": self.has_valence_arousal}

    @property
    def has_valence_arousal(self) -> bool:
        """Whether results carry valence/arousal (from the temporal model, else the frame model; proxies-trained)."""
        return self.temporal.has_valence_arousal or self.model.has_valence_arousal

    def select_temporal(self, live: bool) -> None:
        """Files get the offline stage where there is one (`offline` and `temporal: auto`: the shipped look-ahead
        model for this frame model, results up to its delay late); live sources, streams and webcams the causal
        one."""
        stage = self.causal
        if live and stage.mode != "causal":
            raise EmotraceError(f"temporal stage {stage.name} looks ahead {stage.delay_s:g}s: it is for files; "
                                "live sources need a causal one (auto, ema, hmm or a causal model)")
        if not live and self.config.offline and self.config.temporal == "auto":
            if self._offline is None:
                self._offline = create_temporal(self.config.temporal, frame_model=self.model.name, offline=True,
                                                runtime=self.model.runtime)
            stage = self._offline
        if stage is not self.temporal:
            self.temporal.reset()
            self.temporal = stage

    def reset(self) -> None:
        """Forget all tracks and temporal state (new source)."""
        self.tracker = Tracker(max_lost_s=self.config.max_lost_s)
        self.cuts = ShotCutDetector(self.config.shot_cut_threshold) if self.config.shot_cut_threshold > 0 else None
        self.temporal.reset()
        self._since_detect = 0
        self._last_ids = np.zeros(0, np.int64)
        self._next_still_id = 1
        self._drops: list[int] = []  # tracks ended by `_faces`, freed by the next `_finish` before its steps

    # -- stages -------------------------------------------------------------------------------------------------
    def _faces(self, frame: Frame) -> tuple[Detections, bool]:
        """Detect (or carry tracked faces on skipped frames) and assign track ids."""
        every = max(1, self.config.detect_every)
        if self.cuts is not None and self.cuts.is_cut(frame.image):
            self._drops.extend(self.tracker.end_all())
            self._last_ids = np.zeros(0, np.int64)
            self._since_detect = 0
        if self._since_detect % every != 0 and len(self._last_ids):
            self._since_detect += 1
            return self.tracker.coast(self._last_ids, frame.timestamp), False
        self._since_detect = 1
        dets = self._detect(frame)
        dets = self.tracker.update(dets, frame.timestamp)
        if self.tracker.ended:
            self._drops.extend(self.tracker.ended)
        self._last_ids = dets.track_id if dets.track_id is not None else np.zeros(0, np.int64)
        return dets, True

    def _detect(self, frame: Frame) -> Detections:
        return self.photo_faces.detect(frame.image)

    def _still_faces(self, frame: Frame) -> Detections:
        """Detect on a photo that stands alone: its faces get fresh ids, never an earlier photo's. A photo that is
        already a face crop is found by the padded retry or taken whole (`faces/photo.py`), marked `crop`."""
        found = self.photo_faces.find(frame.image, assume_crop=self.config.assume_crop)
        dets = found.faces
        dets.crop = found.crop
        dets.track_id = np.arange(self._next_still_id, self._next_still_id + len(dets), dtype=np.int64)
        self._next_still_id += len(dets)
        return dets

    def _crops(self, frame: Frame, faces: Detections) -> np.ndarray:
        crops = self.aligner.crops(frame.image, faces.boxes, faces.keypoints)
        if self.config.mask == "oval":
            crops = apply_oval(crops)
        elif self._masker is not None:
            crops = self._masker(crops)
        return crops

    def _take_drops(self) -> list[int]:
        drops, self._drops = self._drops, []
        return drops

    def _finish(self, group: list[tuple[Frame, Detections, bool]], still: bool = False,
                drops: list[int] | None = None) -> Iterator[FrameResult]:
        """Run the frame model on all faces of the group at once, then the temporal model frame by frame (not on
        independent photos: there the temporal columns are the frame model's). `drops`: tracks that ended while
        the group's faces were found; their temporal state goes first, as when `_faces` freed it at once (results
        unchanged), and again at the end."""
        if drops:
            self.temporal.drop(drops)
        crops = [self._crops(f, d) for f, d, _ in group]
        counts = [len(c) for c in crops]
        batch = np.concatenate(crops) if sum(counts) else np.zeros((0, self.aligner.size, self.aligner.size), np.uint8)
        out = self.model(batch)
        offset = 0
        for (frame, faces, detected), n in zip(group, counts, strict=True):
            probs = out["probs"][offset:offset + n]
            emb = out["embedding"][offset:offset + n]
            offset += n
            faces.frame_probs = probs
            faces.embedding = emb
            if n and not still:
                tout = self.temporal.step(faces.track_id, frame.timestamp, probs, emb)
                faces.temporal_probs = tout["probs"]
                if "valence_arousal" in tout:
                    faces.valence_arousal = tout["valence_arousal"]
                elif "valence_arousal" in out:
                    faces.valence_arousal = out["valence_arousal"][offset - n:offset]
            else:
                faces.temporal_probs = probs
                if "valence_arousal" in out:
                    faces.valence_arousal = out["valence_arousal"][offset - n:offset]
            yield FrameResult(frame=frame, faces=faces, detected=detected)
        if drops:
            # Frames of this group before the end of a track (a shot cut) stepped it again after the drop above;
            # drop it once more so no state of an ended track outlives its group (ids are never reused).
            self.temporal.drop(drops)

    # -- public -------------------------------------------------------------------------------------------------
    def process_frame(self, frame: Frame) -> FrameResult:
        """One frame in, its result out, with no batching delay (live use: always the causal stage)."""
        if self.temporal.mode != "causal":
            self.select_temporal(live=True)
        faces, detected = self._faces(frame)
        return next(self._finish([(frame, faces, detected)], drops=self._take_drops()))

    def _groups(self, frames: Iterable[Frame]) -> Iterator[tuple[list[tuple[Frame, Detections, bool]], list[int]]]:
        """Frames with their faces found and tracked, `batch_frames` at a time, with the tracks that ended."""
        group: list[tuple[Frame, Detections, bool]] = []
        size = max(1, self.config.batch_frames)
        for frame in frames:
            faces, detected = self._faces(frame)
            group.append((frame, faces, detected))
            if len(group) >= size:
                yield group, self._take_drops()
                group = []
        if group:
            yield group, self._take_drops()

    def stream(self, frames: Iterable[Frame], threaded: bool = False) -> Iterator[FrameResult]:
        """Results for every frame, in order, `batch_frames` frames at a time. `threaded`: detection and tracking
        of the next groups run in a helper thread while the frame and temporal models run on this one (the stages
        share no state but the list of ended tracks, handed over with each group), same results. With an offline
        stage each result is held until the stage's look-ahead (`delay_s`) has passed, so its temporal columns are
        final."""
        held: deque[FrameResult] = deque()
        if not threaded:
            for group, drops in self._groups(frames):
                yield from self._release(self._finish(group, drops=drops), held)
        else:
            from emotrace.concurrency import Prefetcher

            ahead = Prefetcher(self._groups(frames), depth=GROUPS_AHEAD, name="emotrace-faces")
            try:
                for group, drops in ahead:
                    yield from self._release(self._finish(group, drops=drops), held)
            finally:
                ahead.close()  # joined: no detection or tracking runs once the stream is left
        self.temporal.settle(float("inf"))
        yield from held

    def _release(self, results: Iterator[FrameResult], held: deque[FrameResult]) -> Iterator[FrameResult]:
        delay = self.temporal.delay_s
        for res in results:
            if not delay:
                yield res
                continue
            held.append(res)
            before = res.frame.timestamp - delay
            self.temporal.settle(before)
            while held and held[0].frame.timestamp <= before:
                yield held.popleft()

    def stills(self, frames: Iterable[Frame]) -> Iterator[FrameResult]:
        """Results for photos that are independent of each other (a folder of photos, not a video's frames): each
        is detected on its own, its faces get ids no other photo shares, and no tracking or temporal state carries
        from one photo to the next. Faces of `batch_frames` photos still share one frame-model batch."""
        group: list[tuple[Frame, Detections, bool]] = []
        size = max(1, self.config.batch_frames)
        for frame in frames:
            group.append((frame, self._still_faces(frame), True))
            if len(group) >= size:
                yield from self._finish(group, still=True)
                group = []
        if group:
            yield from self._finish(group, still=True)

    def close(self) -> None:
        self.photo_faces.close()
        self.detector.close()
