"""CREMA-D video: `VideoFlash/1001_DFA_ANG_XX.flv` = actor, sentence, emotion, level; `VideoDemographics.csv`.

Emotions ANG, DIS, FEA, HAP, NEU, SAD (six; no surprise). Level LO/MD/HI/XX (XX = unspecified). Actors 1001-1091;
subject = actor. Demographics (age, sex, race, ethnicity) go into each sample's `meta` where the CSV is present.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from emotrace.data.readers.common import VIDEO_SUFFIXES, class_index, video_problem
from emotrace.data.schema import Dataset, Sample, VideoFile
from emotrace.labels import EMOTIONS

NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
                  and NAME.match(p.stem) and not p.name.startswith("."))


def looks_like(path: Path) -> bool:
    return path.is_dir() and ((path / "VideoFlash").is_dir() or (path / "VideoDemographics.csv").is_file()
                              or bool(_files(path)[:1]))


def _demographics(path: Path) -> dict[str, dict[str, str]]:
    for cand in (path / "VideoDemographics.csv", path.parent / "VideoDemographics.csv"):
        if cand.is_file():
            with open(cand, newline="") as fh:
                return {row["ActorID"].strip(): {k: v.strip() for k, v in row.items() if k != "ActorID"}
                        for row in csv.DictReader(fh)}
    return {}


def read(path: Path, verify: bool = True) -> Dataset:
    demo = _demographics(path)
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    files = _files(path)
    for p in files:
        actor, sentence, emo, level = NAME.match(p.stem).groups()  # type: ignore[union-attr]
        label = class_index(emo, EMOTIONS)
        if label is None:
            skipped.append((p.name, f"unknown label: {emo}"))
            continue
        frames = None
        if verify:
            problem, frames = video_problem(p)
            if problem:
                skipped.append((p.name, problem))
                continue
        samples.append(Sample(id=p.stem, media=VideoFile(p), label=label, subject=actor,
                              meta={"sentence": sentence, "level": level, "frames": frames, **demo.get(actor, {})}))
    notes = ["CREMA-D emotions ANG, DIS, FEA, HAP, NEU, SAD -> six of the seven (no surprise)"]
    if files and not demo:
        notes.append("VideoDemographics.csv not found: no demographics")
    return Dataset("cremad", path, EMOTIONS, samples, skipped, precropped=False, notes=notes)
