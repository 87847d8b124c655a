"""`AnalyzerConfig`: every knob of the pipeline, its choices and the one check behind every entry point.

Its own module so that the CLI, the web app and batch read the options without importing the pipeline's models.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emotrace.errors import EmotraceError
from emotrace.models.temporal.spec import TemporalSpec

DETECTORS = ("auto", "blazeface", "haar")
RUNTIMES = ("auto", "onnx", "torch")
MASKS = ("none", "oval", "mesh")


@dataclass
class AnalyzerConfig:
    """Every knob of the pipeline (YAML-loadable). A field with a `help` is also a command-line option of
    `emotrace analyze | batch | serve | live | sample`, generated from it (emotrace.cli_options)."""

    detector: str = field(default="auto", metadata={"help": "face detector", "choices": DETECTORS})
    # BlazeFace fires at 0.53-0.68 on cartoon titles in ../shared/media; real faces score > 0.7
    min_score: float = field(default=0.7, metadata={"help": "detector score threshold"})
    detect_every: int = field(default=8, metadata={
        "help": "run the detector at most every N frames while every tracked face is steady (every frame as soon "
                "as a face arrives, is lost, moves unlike its prediction or the picture changes; the tracker "
                "carries faces in between); 1: every frame"})
    frame_model: str = field(default="default", metadata={
        "help": "shipped frame-model weights name, or a training run folder"})
    runtime: str = field(default="auto", metadata={"help": "frame-model runtime", "choices": RUNTIMES})
    temporal: str = field(default="auto", metadata={
        "help": "temporal stage: auto (files: the look-ahead model; live: the causal one), ema, ema:<tau_s>, hmm, "
                "hmm:<switches/s>, a shipped temporal weights name, or NAME+lookahead"})
    offline: bool = field(default=True, metadata={  # files under `temporal: auto` use the shipped look-ahead model
        "flag": "--causal", "help": "files too use the causal temporal stage (no look-ahead, no output delay)"})
    batch_frames: int = 8  # frames whose faces share one model batch (1 for live use)
    mask: str = field(default="none", metadata={"help": "hide the background around each face", "choices": MASKS})
    max_lost_s: float = 1.5
    shot_cut_threshold: float = 0.25  # histogram distance that ends every track (0 disables)
    min_face_px: int = 12
    assume_crop: bool = field(default=False, metadata={
        "flag": "--crops", "help": "photos are face crops: a photo where the detector finds no face is classified "
                                   "whole (marked in the crop column); small photos are treated so without it"})
    signals: int = field(default=0, metadata={
        "help": "face signals (52 blendshapes, head pose yaw/pitch/roll, 478 landmarks) every N frames of each "
                "track: 0 off, 1 every frame (about 10 ms a face on a small CPU)"})
    mesh_align: bool = field(default=False, metadata={
        "help": "with --signals 1 (and on photos, whatever N): align each face's crop from its face mesh (iris "
                "centres, nose tip, mouth) instead of the detector's keypoints; off by default: better on posed and "
                "movie photos, worse on FER+ (docs/signals.md)"})
    hold_unclear: bool = field(default=True, metadata={
        "flag": "--no-hold-unclear",
        "help": "with --signals: feed the temporal stage a track's last clear face while the signals flag it "
                "(profile, looking down, eyes closed), so the temporal label holds through a turn or a blink; "
                "the flag keeps following every frame"})
    # faces.identity.DEFAULT_DISTANCE of the default descriptor (this module never imports faces; a test ties them)
    person_distance: float = field(default=0.80, metadata={
        "help": "link tracks of one person (after a cut, an occlusion, a look-away) under one person_id when their "
                "face descriptors are within this distance: lower is stricter, "
                "0 turns linking off (no person columns); docs/people.md"})
    threads: int = field(default=0, metadata={
        "help": "CPU threads for the frame model, 0 for the library's default (temporal steps run on one)"})

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Refuse values that would run but give wrong results; the one check behind the CLI, the Python API,
        config files and the web app, so every entry point says the same thing."""
        check_analyzer_config(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON for a web worker, a batch's settings hash); `from_dict` reads it back."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> AnalyzerConfig:
        """The config that `to_dict` (or a settings mapping) describes, checked."""
        return cls(**values)


def _number(name: str, v: Any, lo: float, hi: float | None = None, integer: bool = False) -> None:
    kind = "a whole number" if integer else "a number"
    ok = not isinstance(v, bool) and (isinstance(v, int) if integer else isinstance(v, (int, float)))
    if ok and v == v and v >= lo and (hi is None or v <= hi):  # v == v: not NaN
        return
    rng = f"{lo:g} or more" if hi is None else f"from {lo:g} to {hi:g}"
    raise EmotraceError(f"{name} must be {kind} {rng} (got {v!r})")


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
    _number("signals", cfg.signals, 0, integer=True)
    _number("person_distance", cfg.person_distance, 0.0, 2.0)
    if not isinstance(cfg.frame_model, str) or not cfg.frame_model:
        raise EmotraceError(f"frame_model must be a shipped weights name or 'default' (got {cfg.frame_model!r})")
    TemporalSpec.parse(cfg.temporal)  # the grammar create_temporal reads too, so both refuse the same specs
