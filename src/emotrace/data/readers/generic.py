"""Any data not in a known layout: a folder per class of images, or a CSV manifest of files with labels.

Folders: `root/<class>/*.png` or `root/<split>/<class>/*.png` (e.g. FER2013's Kaggle `train|test/<class>/`).
Class folder names are matched through emotrace's aliases (anger, happiness, surprised, ...); other names are
counted as unknown labels and skipped.

Manifest: a CSV with columns `path,label` and optional `subject,split,valence,arousal`. `path` (relative to the
CSV's folder) is an image, a video, or a folder of frames; `label` may be empty when valence/arousal are given.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from emotrace.data.readers.common import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    class_index,
    image_files,
    image_problem,
    seven_or_eight,
    video_problem,
)
from emotrace.data.schema import Dataset, FrameFiles, ImageFile, Sample, VideoFile
from emotrace.errors import EmotraceError

SPLIT_NAMES = {"train": "train", "training": "train", "val": "valid", "valid": "valid", "validation": "valid",
               "test": "test", "publictest": "valid", "privatetest": "test"}


def _class_dirs(path: Path) -> list[Path]:
    return sorted(d for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))


def looks_like_folders(path: Path) -> bool:
    if not path.is_dir():
        return False
    dirs = _class_dirs(path)
    if dirs and all(d.name.lower() in SPLIT_NAMES for d in dirs):
        dirs = [c for d in dirs for c in _class_dirs(d)]
    return bool(dirs) and any(class_index(d.name, seven_or_eight(True)) is not None for d in dirs)


def read_folders(path: Path, include_contempt: bool = False) -> Dataset:
    classes = seven_or_eight(include_contempt)
    tops = _class_dirs(path)
    if tops and all(d.name.lower() in SPLIT_NAMES for d in tops):
        pairs = [(SPLIT_NAMES[d.name.lower()], c) for d in tops for c in _class_dirs(d)]
    else:
        pairs = [(None, d) for d in tops]
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    for split, folder in pairs:
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        rel = folder.relative_to(path)
        if not files:
            skipped.append((str(rel), "empty folder"))
            continue
        label = class_index(folder.name, classes)
        if label is None:
            reason = "contempt excluded" if folder.name.lower() == "contempt" else f"unknown label: {folder.name}"
            skipped += [(f"{rel}/{p.name}", reason) for p in files]
            continue
        for p in sorted(files):
            if p.suffix.lower() not in IMAGE_SUFFIXES:
                skipped.append((f"{rel}/{p.name}", "not an image file"))
                continue
            problem = image_problem(p)
            if problem:
                skipped.append((f"{rel}/{p.name}", problem))
                continue
            samples.append(Sample(id=f"{rel}/{p.stem}", media=ImageFile(p), label=label, split=split))
    return Dataset("folders", path, classes, samples, skipped, precropped=False,
                   notes=["class from folder name through emotrace's label aliases"])


def looks_like_manifest(path: Path) -> bool:
    if not (path.is_file() and path.suffix.lower() == ".csv"):
        return False
    with open(path, newline="") as fh:
        head = [h.strip().lower() for h in fh.readline().split(",")]
    return "path" in head and ("label" in head or "valence" in head)


def _float(x: str | None) -> float:
    try:
        return float(x) if x not in (None, "") else float("nan")
    except ValueError:
        return float("nan")


def read_manifest(path: Path, include_contempt: bool = False) -> Dataset:
    classes = seven_or_eight(include_contempt)
    base = path.parent
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if "path" not in (reader.fieldnames or []):
            raise EmotraceError(f"{path}: a manifest needs a 'path' column")
        for row_no, row in enumerate(reader, start=2):
            item = f"{path.name}:{row_no}"
            rel = (row.get("path") or "").strip()
            if not rel:
                skipped.append((item, "missing file: empty path"))
                continue
            target = (base / rel).resolve()
            raw_label = (row.get("label") or "").strip()
            label = -1
            if raw_label:
                found = class_index(raw_label, classes)
                if found is None:
                    skipped.append((item, f"unknown label: {raw_label}"))
                    continue
                label = found
            va = np.array([_float(row.get("valence")), _float(row.get("arousal"))], np.float32)
            if label < 0 and np.isnan(va).any():
                skipped.append((item, "no label and no valence/arousal"))
                continue
            if target.is_dir():
                frames = image_files(target)
                if not frames:
                    skipped.append((item, "empty folder"))
                    continue
                media: FrameFiles | ImageFile | VideoFile = FrameFiles(tuple(frames))
            elif target.suffix.lower() in VIDEO_SUFFIXES:
                problem, _ = video_problem(target)
                if problem:
                    skipped.append((item, problem))
                    continue
                media = VideoFile(target)
            else:
                problem = image_problem(target)
                if problem:
                    skipped.append((item, problem))
                    continue
                media = ImageFile(target)
            split = SPLIT_NAMES.get((row.get("split") or "").strip().lower())
            samples.append(Sample(id=rel, media=media, label=label, subject=(row.get("subject") or "").strip() or None,
                                  split=split, valence_arousal=None if np.isnan(va).any() else va))
    return Dataset("manifest", path, classes, samples, skipped, precropped=False,
                   notes=[f"manifest {path.name}; labels through emotrace's aliases"])
