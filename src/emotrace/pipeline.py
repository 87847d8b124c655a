"""The Analyzer: source -> detect -> track -> align -> frame model -> temporal model -> results.

One object serves files (`analyze`), live windows and servers (`stream`, `process_frame`): only the source and the
sinks change. Frames are processed in small groups so that every face of several frames goes through the frame
model in one batch; memory is bounded by that group, not by the video's length. State that belongs to a person
(tracker entry, temporal hidden state) lives with the track id and is freed when the track ends.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from emotrace.analyzer_config import AnalyzerConfig
from emotrace.errors import EmotraceError
from emotrace.faces.align import FaceAligner, mesh_keypoints
from emotrace.faces.carry import FaceCarrier
from emotrace.faces.detectors import create_detector
from emotrace.faces.mask import MeshMasker, apply_oval
from emotrace.faces.people import WINDOW_S, PeopleStage
from emotrace.faces.photo import PhotoFaceFinder, large_enough
from emotrace.faces.schedule import DetectionSchedule
from emotrace.faces.shotcut import ShotCutDetector
from emotrace.faces.signals import SignalReader
from emotrace.faces.tracker import Tracker
from emotrace.models.runtime import FrameModelRunner
from emotrace.models.temporal.factory import create_temporal
from emotrace.models.temporal.hold import UnclearHold
from emotrace.models.temporal.stage import TemporalStage
from emotrace.results import FrameResult
from emotrace.types import Detections, Frame

if TYPE_CHECKING:
    from emotrace.sources.base import Source

log = logging.getLogger("emotrace")

GROUPS_AHEAD = 2  # frame groups found and tracked ahead of the models when `stream(threaded=True)`
GroupAndDrops = tuple[list[tuple[Frame, Detections, bool]], list[int]]  # frames with faces; tracks ended in them


class Analyzer:
    """Streaming face-emotion analysis. Create once, feed any number of sources (call `reset` between them)."""

    def __init__(self, config: AnalyzerConfig | None = None, **overrides: Any) -> None:
        cfg = config or AnalyzerConfig()
        unknown = [k for k in overrides if not hasattr(cfg, k)]
        if unknown:
            raise TypeError(f"unknown Analyzer option {unknown[0]!r}")
        cfg = dataclasses.replace(cfg, **overrides) if overrides else cfg  # checked; the caller's config is untouched
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
        self.signals = SignalReader(every=cfg.signals) if cfg.signals else None
        self.hold = UnclearHold() if cfg.signals and cfg.hold_unclear else None
        self.people = self._people_stage(cfg.person_distance) if cfg.person_distance > 0 else None
        self.reset()

    @staticmethod
    def _people_stage(distance: float) -> PeopleStage:
        from emotrace.faces.identity import FaceEmbedder  # dlib: loaded only when people are on

        embedder = FaceEmbedder()
        return PeopleStage(distance, embedder, warm=embedder.warm)

    def describe(self) -> dict[str, Any]:
        """What runs at each stage for the current source (`start`), for logs, reports and summaries."""
        desc = {"detector": self.detector.name, "detect_every": self.config.detect_every,
                "frame_model": self.model.describe(), "temporal_stage": self.temporal.name,
                "temporal_description": self.temporal.description, "temporal_mode": self.temporal.mode,
                "mask": self.config.mask,
                "valence_arousal": self.has_valence_arousal}
        if self.signals is not None:
            desc["signals"] = self.signals.every
        if self.people is not None:
            desc["people"] = self.people.max_distance
        if self._stills:
            desc.update(temporal_stage="none", temporal_description="independent photos: no temporal stage, the "
                        "temporal columns are the frame model's")
        return desc

    def start(self, source: Source) -> dict[str, Any]:
        """Get ready for a new source: what it is (independent photos, a live stream or a file) chooses how its
        frames run and which temporal stage they get; all track state is forgotten. Returns `describe()`."""
        self.select_temporal(live=source.is_live)
        self.reset()
        self._stills = source.is_still
        return self.describe()

    def result_groups(self, frames: Iterable[Frame], threaded: bool = False) -> Iterator[list[FrameResult]]:
        """The results of the source `start` was given (`stills`' way for independent photos, else `stream`'s), a
        list per group of frames: a group is analysed in one go (faces, the model batch, the temporal steps) and
        the results it completes leave together, so a frame's way enters the analyzer once for its group and once
        more, at most, for the group that completes it (`benchmarks/frame_path.py`)."""
        return self._still_groups(frames) if self._stills else self._stream_groups(frames, threaded)

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
        if self.signals is not None:
            self.signals.reset()
        if self.hold is not None:
            self.hold.reset()
        if self.people is not None:
            self.people.reset()
        self._stills = False  # the current source is independent photos (set by `start`)
        self.schedule = DetectionSchedule(self.config.detect_every,
                                          young_s=WINDOW_S if self.people is not None else 0.0)
        self.carrier = FaceCarrier()
        self._last_ids = np.zeros(0, np.int64)
        self._next_still_id = 1
        self._drops: list[int] = []  # tracks ended by `_faces`, handed to the next `_finish` with its group
        self._ended: list[int] = []  # tracks whose temporal state the next temporal step frees first

    # -- stages -------------------------------------------------------------------------------------------------
    def _faces(self, frame: Frame) -> tuple[Detections, bool]:
        """Detect when the schedule says so (or carry tracked faces on the frames between) and assign track ids."""
        if self.cuts is not None and self.cuts.is_cut(frame.image):
            self._drops.extend(self.tracker.end_all())
            self._last_ids = np.zeros(0, np.int64)  # (the schedule then detects, and every face found is new)
        if not self.schedule.due(frame.image, tracking=bool(len(self._last_ids))):
            return self.carrier.carry(frame.image, self.tracker.coast(self._last_ids, frame.timestamp)), False
        dets = self._detect(frame)
        dets = self.tracker.update(dets, frame.timestamp)
        if self.tracker.ended:
            self._drops.extend(self.tracker.ended)
        self._last_ids = dets.track_id if dets.track_id is not None else np.zeros(0, np.int64)
        self.schedule.detected(frame.image, self.tracker.confirmed, self.tracker.youngest_s)
        self.carrier.remember(frame.image, dets)
        return dets, True

    def _read_signals(self, group: list[tuple[Frame, Detections, bool]], drops: list[int],
                      still: bool = False) -> None:
        """The face signals of a group's faces, in frame order; the counts of tracks that ended in it go after."""
        if self.signals is None:
            return
        for frame, faces, _ in group:
            faces.signals = self.signals.read(frame.image, faces, still=still)
        self.signals.drop(drops)

    def _signal_groups(self, groups: Iterable[GroupAndDrops]) -> Iterator[GroupAndDrops]:
        """Groups with their signals read: a stage of its own (its own thread when threaded), since one face's
        reading costs more than detecting and tracking a frame."""
        for group, drops in groups:
            self._read_signals(group, drops)
            yield group, drops

    def _people_groups(self, groups: Iterable[GroupAndDrops]) -> Iterator[GroupAndDrops]:
        """Groups with every face's person decided: a stage of its own (its own thread when threaded), holding a
        group until its tracks' persons are decided (at most `faces.people.WINDOW_S` after a track starts)."""
        if self.people is None:
            yield from groups
            return
        for group, drops in groups:
            yield from self.people.feed(group, drops)
        yield from self.people.flush()

    def _detect(self, frame: Frame) -> Detections:
        return large_enough(self.detector.detect(frame.image), self.config.min_face_px)

    def _still_faces(self, frame: Frame) -> Detections:
        """Detect on a photo that stands alone: its faces get fresh ids, never an earlier photo's. A photo that is
        already a face crop is found by the padded retry or taken whole (`faces/photo.py`), marked `crop`."""
        dets = self.photo_faces.find(frame.image, assume_crop=self.config.assume_crop)
        dets.track_id = np.arange(self._next_still_id, self._next_still_id + len(dets), dtype=np.int64)
        self._next_still_id += len(dets)
        return dets

    def _crops(self, frame: Frame, faces: Detections, still: bool = False) -> np.ndarray:
        crops = self.aligner.crops(frame.image, faces.boxes, self._align_points(faces, still))
        if self.config.mask == "oval":
            crops = apply_oval(crops)
        elif self._masker is not None:
            crops = self._masker(crops)
        return crops

    def _align_points(self, faces: Detections, still: bool) -> np.ndarray | None:
        """The points a face is aligned by: its face mesh where the signal reader measured it (every frame with
        --signals 1, every photo), else the detector's keypoints. Not with --signals N > 1 in video: a track's
        crops would change alignment every Nth frame."""
        sig, kp = faces.signals, faces.keypoints
        if sig is None or kp is None or not self.config.mesh_align or not (still or self.config.signals == 1):
            return kp
        kp = kp.copy()
        for i in np.flatnonzero(sig.status == "measured"):
            kp[i, :4] = mesh_keypoints(sig.landmarks[i])
        return kp

    def _take_drops(self) -> list[int]:
        drops, self._drops = self._drops, []
        return drops

    def _finish(self, group: list[tuple[Frame, Detections, bool]], still: bool = False,
                drops: list[int] | None = None) -> Iterator[FrameResult]:
        """Run the frame model on all faces of the group at once, then the temporal model frame by frame (not on
        independent photos: there the temporal columns are the frame model's). `drops`: tracks that ended while
        the group's faces were found; their temporal state goes with the group's first step (before it, as when
        `_faces` freed it at once: results unchanged), and again with the next group's first step, since frames of
        this group before a track's end stepped it again (ids are never reused, so nothing reads it meanwhile). The
        drops travel inside the step, so a frame's way enters the stage once for its step."""
        self._ended.extend(drops or [])
        crops = [self._crops(f, d, still) for f, d, _ in group]
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
                ended, self._ended = self._ended, []
                t_probs, t_emb = probs, emb
                if self.hold is not None:  # flagged faces: the track's last clear input (models/temporal/hold.py)
                    self.hold.drop(ended)
                    t_probs, t_emb, _ = self.hold.inputs(faces.track_id, frame.timestamp, faces.signals, probs,
                                                            emb)
                tout = self.temporal.step(faces.track_id, frame.timestamp, t_probs, t_emb, ended=ended)
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
        self._ended.extend(drops or [])

    # -- public -------------------------------------------------------------------------------------------------
    def process_frame(self, frame: Frame) -> FrameResult:
        """One frame in, its result out, with no batching delay (live use: always the causal stage)."""
        if self.temporal.mode != "causal":
            self.select_temporal(live=True)
        faces, detected = self._faces(frame)
        group, drops = [(frame, faces, detected)], self._take_drops()
        self._read_signals(group, drops)
        if self.people is not None:
            if self.people.warm is not None:  # live: load the descriptor now (once); a stall later would show
                self.people.warm()
            self.people.feed(group, drops, window_s=0.0)  # live: a track's person is decided on its first frame
        return next(self._finish(group, drops=drops))

    def _groups(self, frames: Iterable[Frame]) -> Iterator[GroupAndDrops]:
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
        groups = self._stream_groups(frames, threaded)
        try:
            for results in groups:
                yield from results
        finally:
            groups.close()  # at once when the caller stops early: the helper thread is joined

    def _stream_groups(self, frames: Iterable[Frame], threaded: bool) -> Iterator[list[FrameResult]]:
        """`stream`'s results, a list per group: the results the group completes (then those still held)."""
        held: deque[FrameResult] = deque()
        if not threaded:
            for group, drops in self._people_groups(self._signal_groups(self._groups(frames))):
                yield self._release(self._finish(group, drops=drops), held)
        else:
            from emotrace.concurrency import Prefetcher

            stages = [Prefetcher(self._groups(frames), depth=GROUPS_AHEAD, name="emotrace-faces")]
            if self.signals is not None:
                stages.append(Prefetcher(self._signal_groups(stages[0]), depth=GROUPS_AHEAD, name="emotrace-signals"))
            if self.people is not None:
                stages.append(Prefetcher(self._people_groups(stages[-1]), depth=GROUPS_AHEAD, name="emotrace-people"))
            try:
                for group, drops in stages[-1]:
                    yield self._release(self._finish(group, drops=drops), held)
            finally:
                for stage in reversed(stages):
                    stage.close()  # joined: no detection, tracking or reading runs once the stream is left
        ended, self._ended = self._ended, []
        self.temporal.drop(ended)  # no state of an ended track outlives the stream
        self.temporal.settle(float("inf"))
        yield list(held)

    def _release(self, results: Iterator[FrameResult], held: deque[FrameResult]) -> list[FrameResult]:
        """The results of a group that are final: every one with a causal stage; with a look-ahead stage, those
        whose look-ahead (`delay_s`) has passed by the group's last frame, settled in one call (the others wait in
        `held`). One settle per group, not per frame: a frame's window holds only frames within `delay_s` of it,
        so when it is finished does not change its values."""
        done = list(results)
        delay = self.temporal.delay_s
        if not delay:
            return done
        held.extend(done)
        if not held:
            return []
        before = held[-1].frame.timestamp - delay
        self.temporal.settle(before)
        out = []
        while held and held[0].frame.timestamp <= before:
            out.append(held.popleft())
        return out

    def stills(self, frames: Iterable[Frame]) -> Iterator[FrameResult]:
        """Results for photos that are independent of each other (a folder of photos, not a video's frames): each
        is detected on its own, its faces get ids no other photo shares, and no tracking or temporal state carries
        from one photo to the next. Faces of `batch_frames` photos still share one frame-model batch."""
        for results in self._still_groups(frames):
            yield from results

    def _still_groups(self, frames: Iterable[Frame]) -> Iterator[list[FrameResult]]:
        """`stills`' results, a list per group of `batch_frames` photos."""
        group: list[tuple[Frame, Detections, bool]] = []
        size = max(1, self.config.batch_frames)
        for frame in frames:
            group.append((frame, self._still_faces(frame), True))
            if len(group) >= size:
                self._read_signals(group, [], still=True)
                self._photo_people(group)
                yield list(self._finish(group, still=True))
                group = []
        if group:
            self._read_signals(group, [], still=True)
            self._photo_people(group)
            yield list(self._finish(group, still=True))

    def _photo_people(self, group: list[tuple[Frame, Detections, bool]]) -> None:
        if self.people is not None:
            self.people.photos(group)

    def close(self) -> None:
        if self.signals is not None:
            self.signals.close()
        self.photo_faces.close()
        self.detector.close()
