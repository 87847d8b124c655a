"""Aff-Wild2 as the ABAW challenges distribute it: cropped-aligned frame folders plus per-video annotation files.

`cropped_aligned/<video>/00001.jpg ...` (112x112 faces; a frame with no face has no image) and annotation files
`<annotations>/{VA_Set|VA_Estimation_Challenge}/{Train_Set|Validation_Set}/<video>.txt` (header `valence,arousal`,
one line per video frame, -5 = invalid) and `.../{EXPR_Set|EXPR_Classification_Challenge}/...` (header
`Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise[,Other]`, one class index per line, -1 = invalid).
Line k of a file belongs to image k (1-based). One sample per video: its existing frames in order, per-frame
valence/arousal (NaN where invalid) and per-frame labels (-1 where invalid or Other); `meta["frame_index"]` keeps
the 1-based frame numbers so windows never bridge a gap. Subject = video name (`_left`/`_right` are two people).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emotrace.data.readers.common import class_index, image_files
from emotrace.data.schema import Dataset, FrameFiles, Sample
from emotrace.labels import EMOTIONS

VA_DIRS = ("VA_Set", "VA_Estimation_Challenge")
EXPR_DIRS = ("EXPR_Set", "EXPR_Classification_Challenge")
SPLITS = {"Train_Set": "train", "Validation_Set": "valid", "Test_Set": "test"}
VA_INVALID = -5.0


def _frames_root(path: Path) -> Path | None:
    for cand in ("cropped_aligned", "cropped-aligned", "cropped_aligned_images"):
        if (path / cand).is_dir():
            return path / cand
    return None


def _task_dirs(path: Path, names: tuple[str, ...]) -> list[Path]:
    return sorted(d for d in path.rglob("*") if d.is_dir() and d.name in names)


def looks_like(path: Path) -> bool:
    return path.is_dir() and _frames_root(path) is not None and bool(_task_dirs(path, VA_DIRS + EXPR_DIRS))


def _read_lines(path: Path) -> tuple[list[str], list[str]]:
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    return lines[0].split(","), lines[1:]


def read(path: Path) -> Dataset:
    frames_root = _frames_root(path)
    assert frames_root is not None
    va: dict[str, tuple[str, np.ndarray]] = {}
    expr: dict[str, tuple[str, np.ndarray]] = {}
    skipped: list[tuple[str, str]] = []
    for task_dir in _task_dirs(path, VA_DIRS):
        for split_dir in sorted(d for d in task_dir.iterdir() if d.is_dir()):
            for f in sorted(split_dir.glob("*.txt")):
                _, rows = _read_lines(f)
                try:
                    arr = np.array([[float(x) for x in r.split(",")] for r in rows], np.float32).reshape(-1, 2)
                except ValueError:
                    skipped.append((f.name, "corrupt annotation file"))
                    continue
                arr[(arr[:, 0] <= VA_INVALID) | (arr[:, 1] <= VA_INVALID)] = np.nan
                va[f.stem] = (SPLITS.get(split_dir.name, split_dir.name), arr)
    for task_dir in _task_dirs(path, EXPR_DIRS):
        for split_dir in sorted(d for d in task_dir.iterdir() if d.is_dir()):
            for f in sorted(split_dir.glob("*.txt")):
                header, rows = _read_lines(f)
                mapping = np.array([-1 if class_index(h, EMOTIONS) is None else class_index(h, EMOTIONS)
                                    for h in header] + [-1])
                try:
                    codes = np.array([int(r) for r in rows], np.int64)
                except ValueError:
                    skipped.append((f.name, "corrupt annotation file"))
                    continue
                codes[(codes < 0) | (codes >= len(header))] = len(header)  # invalid / unknown -> -1 below
                expr[f.stem] = (SPLITS.get(split_dir.name, split_dir.name), mapping[codes])
    samples: list[Sample] = []
    for video in sorted(set(va) | set(expr)):
        folder = frames_root / video
        files = image_files(folder) if folder.is_dir() else []
        if not files:
            skipped.append((video, "missing file: no cropped-aligned frames"))
            continue
        numbered = [(int(p.stem), p) for p in files if p.stem.isdigit()]
        n_lines = max(len(va.get(video, ("", []))[1]), len(expr.get(video, ("", []))[1]))
        kept = [(k, p) for k, p in numbered if 1 <= k <= n_lines]
        if not kept:
            skipped.append((video, "no frame matches an annotation line"))
            continue
        index = np.array([k for k, _ in kept])
        frame_va = va[video][1][index - 1] if video in va else None
        frame_labels = expr[video][1][index - 1] if video in expr else None
        split = (va.get(video) or expr[video])[0]
        samples.append(Sample(id=video, media=FrameFiles(tuple(p for _, p in kept)),
                              label=-1, subject=video, split=split, valence_arousal=frame_va,
                              frame_labels=frame_labels,
                              meta={"frame_index": index, "va_split": va.get(video, (None,))[0],
                                    "expr_split": expr.get(video, (None,))[0]}))
    notes = ["Aff-Wild2 per-frame labels: Neutral, Anger, Disgust, Fear, Happiness, Sadness, Surprise -> the seven; "
             "Other and -1 invalid; valence/arousal -5 invalid (NaN)"]
    return Dataset("affwild2", path, EMOTIONS, samples, skipped, precropped=True, notes=notes)
