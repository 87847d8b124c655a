"""RAVDESS video: `Actor_XX/MM-VC-EM-IN-ST-RE-AC.mp4`, seven two-digit fields.

modality (01 audio-video, 02 video-only, 03 audio-only), vocal channel (01 speech, 02 song), emotion (01 neutral,
02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised), intensity (01 normal, 02 strong),
statement (01, 02), repetition (01, 02), actor (01-24; odd male, even female). Audio-only files are not samples.
Calm has no place in the seven emotions: dropped, or merged into neutral with `calm_as_neutral`. Seed 1 tests on
RAVDESS without calm and surprised (`drop_surprise=True`). Subject = actor.
"""

from __future__ import annotations

import re
from pathlib import Path

from emotrace.data.readers.common import VIDEO_SUFFIXES, video_problem
from emotrace.data.schema import Dataset, Sample, VideoFile
from emotrace.labels import EMOTIONS

NAME = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")
EMOTION_CODES = {1: "neutral", 2: "calm", 3: "happy", 4: "sad", 5: "angry", 6: "fear", 7: "disgust", 8: "surprise"}


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and NAME.match(p.stem) and not p.name.startswith("."))


def looks_like(path: Path) -> bool:
    return path.is_dir() and (any(path.glob("Actor_*")) or path.name.startswith("Actor_")) and bool(_files(path)[:1])


def read(path: Path, calm_as_neutral: bool = False, drop_surprise: bool = False, verify: bool = True) -> Dataset:
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    for p in _files(path):
        fields = [int(x) for x in NAME.match(p.stem).groups()]  # type: ignore[union-attr]
        modality, channel, emo, intensity, statement, repetition, actor = fields
        if modality == 3 or p.suffix.lower() not in VIDEO_SUFFIXES:
            skipped.append((p.name, "audio only"))
            continue
        name = EMOTION_CODES.get(emo)
        if name is None:
            skipped.append((p.name, f"unknown label: code {emo:02d}"))
            continue
        if name == "calm":
            if not calm_as_neutral:
                skipped.append((p.name, "calm excluded"))
                continue
            name = "neutral"
        if name == "surprise" and drop_surprise:
            skipped.append((p.name, "surprise excluded"))
            continue
        frames = None
        if verify:
            problem, frames = video_problem(p)
            if problem:
                skipped.append((p.name, problem))
                continue
        samples.append(Sample(id=p.stem, media=VideoFile(p), label=EMOTIONS.index(name), subject=f"{actor:02d}",
                              meta={"modality": modality, "channel": "speech" if channel == 1 else "song",
                                    "intensity": "normal" if intensity == 1 else "strong", "statement": statement,
                                    "repetition": repetition, "sex": "male" if actor % 2 else "female",
                                    "frames": frames, "calm": emo == 2}))
    notes = ["RAVDESS emotion codes 01-08; calm " + ("merged into neutral" if calm_as_neutral else "dropped")
             + ("; surprised dropped (seed 1)" if drop_surprise else "")]
    return Dataset("ravdess", path, EMOTIONS, samples, skipped, precropped=False, notes=notes)
