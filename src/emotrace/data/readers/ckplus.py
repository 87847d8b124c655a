"""CK+ (extended Cohn-Kanade): the original distribution and the CK+48 folder layout.

Original: `cohn-kanade-images/S###/###/S###_###_########.png` (ordered neutral -> apex) with
`Emotion/S###/###/S###_###_########_emotion.txt` holding one code: 0 neutral, 1 anger, 2 contempt, 3 disgust,
4 fear, 5 happy, 6 sadness, 7 surprise. Only the 327 sequences with an emotion file are labelled.

CK+48: `CK+48/<emotion>/S###_###_########.png`, the last three frames of each labelled sequence, and beside it
`neutral/S###_###_00000001.png`, the first frame of sequences. A CK+48 sample is one sequence: its neutral first
frame (when present) then the three apex frames, as seed 4 uses them.

In both, `frame_labels` marks the first frame neutral and the last three frames with the sequence's emotion
(frames between are the onset, unlabelled). Subject = `S###`; split subject-independently, always.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from emotrace.data.readers.common import IMAGE_SUFFIXES, class_index, image_files, image_problem, seven_or_eight
from emotrace.data.schema import Dataset, FrameFiles, Sample

CODES = ("neutral", "anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise")
NAME = re.compile(r"^(S\d{3})_(\d{3})_(\d{8})$")


def _frame_labels(n: int, label: int, neutral: int, has_neutral_first: bool) -> np.ndarray:
    out = np.full(n, -1, np.int64)
    out[max(0, n - 3):] = label
    if has_neutral_first and n > 3:
        out[0] = neutral
    return out


def looks_like_original(path: Path) -> bool:
    return (path / "cohn-kanade-images").is_dir() and (path / "Emotion").is_dir()


def _find_ck48(path: Path) -> Path | None:
    for cand in (path / "CK+48", path):
        if cand.is_dir() and any((cand / d).is_dir() for d in ("anger", "happy", "surprise", "sadness")):
            files = [p for d in cand.iterdir() if d.is_dir() for p in list(d.iterdir())[:3]]
            if files and all(NAME.match(p.stem) for p in files if p.suffix.lower() in IMAGE_SUFFIXES):
                return cand
    return None


def looks_like_ck48(path: Path) -> bool:
    return _find_ck48(path) is not None


def read_original(path: Path, include_contempt: bool = True) -> Dataset:
    """Every labelled sequence, all its frames in order; unlabelled sequences are not samples (no label)."""
    classes = seven_or_eight(include_contempt)
    neutral = classes.index("neutral")
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    for emo_file in sorted((path / "Emotion").glob("S*/*/*_emotion.txt")):
        subject, seq = emo_file.parent.parent.name, emo_file.parent.name
        item = f"{subject}/{seq}"
        try:
            code = int(round(float(emo_file.read_text().split()[0])))
            name = CODES[code]
        except (ValueError, IndexError):
            skipped.append((item, f"unknown label: {emo_file.read_text().strip()!r}"))
            continue
        label = class_index(name, classes)
        if label is None:
            skipped.append((item, f"{name} excluded"))
            continue
        folder = path / "cohn-kanade-images" / subject / seq
        frames = image_files(folder) if folder.is_dir() else []
        bad = [p for p in frames if image_problem(p)]
        if not frames:
            skipped.append((item, "missing file: no frames"))
            continue
        if bad:
            skipped.append((item, f"corrupt or unreadable image: {bad[0].name}"))
            continue
        samples.append(Sample(id=item, media=FrameFiles(tuple(frames)), label=label, subject=subject,
                              frame_labels=_frame_labels(len(frames), label, neutral, True),
                              meta={"sequence": seq}))
    return Dataset("ckplus", path, classes, samples, skipped, precropped=False,
                   notes=["CK+ codes 0-7 = neutral, anger, contempt, disgust, fear, happy, sadness, surprise",
                          f"contempt {'kept as an 8th class' if include_contempt else 'dropped'}"])


def read_ck48(path: Path, include_contempt: bool = True) -> Dataset:
    """Sequences of CK+48: neutral first frame from `neutral/` (when there) + the three apex frames."""
    root = _find_ck48(path)
    assert root is not None
    classes = seven_or_eight(include_contempt)
    neutral_dir = root.parent / "neutral"
    neutral_first = {}
    if neutral_dir.is_dir():
        for p in image_files(neutral_dir):
            m = NAME.match(p.stem)
            if m:
                neutral_first[(m.group(1), m.group(2))] = p
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    label_of: dict[tuple[str, str], str] = {}
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    for folder in sorted(d for d in root.iterdir() if d.is_dir()):
        files = image_files(folder)
        if not files:
            skipped.append((folder.name, "empty folder"))
            continue
        if class_index(folder.name, classes) is None and folder.name.lower() != "contempt":
            skipped += [(f"{folder.name}/{p.name}", f"unknown label: {folder.name}") for p in files]
            continue
        for p in files:
            m = NAME.match(p.stem)
            if not m:
                skipped.append((f"{folder.name}/{p.name}", "unrecognised file name"))
                continue
            key = (m.group(1), m.group(2))
            if key in label_of and label_of[key] != folder.name:
                skipped.append((f"{folder.name}/{p.name}", f"sequence also labelled {label_of[key]}"))
                continue
            label_of[key] = folder.name
            groups[key].append(p)
    for key in sorted(groups):
        item = f"{key[0]}_{key[1]}"
        label = class_index(label_of[key], classes)
        if label is None:
            skipped.append((item, f"{label_of[key]} excluded"))
            continue
        apex = sorted(groups[key])
        bad = [p for p in apex if image_problem(p)]
        if bad:
            skipped.append((item, f"corrupt or unreadable image: {bad[0].name}"))
            continue
        first = neutral_first.get(key)
        if first is not None and image_problem(first):
            first = None
        frames = ([first] if first is not None else []) + apex
        fl = np.full(len(frames), label, np.int64)
        if first is not None:
            fl[0] = classes.index("neutral")
        samples.append(Sample(id=item, media=FrameFiles(tuple(frames)), label=label, subject=key[0],
                              frame_labels=fl, meta={"sequence": key[1], "has_neutral_first": first is not None}))
    return Dataset("ckplus48", root, classes, samples, skipped, precropped=True,
                   notes=["CK+48: neutral first frame + three apex frames per labelled sequence",
                          f"contempt {'kept as an 8th class' if include_contempt else 'dropped'}",
                          f"label set: {', '.join(classes)}"])

