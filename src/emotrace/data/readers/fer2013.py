"""FER2013 as Kaggle distributed it: one CSV (`emotion,pixels,Usage`) of 48x48 gray faces.

Labels 0..6 are angry, disgust, fear, happy, sad, surprise, neutral (emotrace's order). Usage `Training`,
`PublicTest`, `PrivateTest` become the splits `train`, `valid`, `test`. FER2013 has no subject ids.
The Kaggle *folder* layout (`train|test/<class>/*.jpg`) is read by the generic folder reader.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from emotrace.data.schema import Dataset, ImageArray, Sample
from emotrace.errors import EmotraceError
from emotrace.labels import EMOTIONS, FER2013_NAMES

USAGE_TO_SPLIT = {"training": "train", "publictest": "valid", "privatetest": "test"}
HEADER = ("emotion", "pixels")


def looks_like(path: Path) -> bool:
    if not (path.is_file() and path.suffix.lower() == ".csv"):
        return False
    with open(path, newline="") as fh:
        head = fh.readline().strip().lower().replace(" ", "").split(",")
    return all(h in head for h in HEADER)


def read(path: Path) -> Dataset:
    """Every valid row becomes a still; rows with a bad label or pixel string are skipped and counted."""
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = {f.strip().lower(): f for f in reader.fieldnames or []}
        if not all(h in fields for h in HEADER):
            raise EmotraceError(f"{path}: not a FER2013 CSV (needs columns emotion,pixels[,Usage])")
        for row_no, row in enumerate(reader, start=2):
            item = f"{path.name}:{row_no}"
            try:
                label = int(row[fields["emotion"]])
            except ValueError:
                skipped.append((item, f"unknown label: {row[fields['emotion']]!r}"))
                continue
            if not 0 <= label < len(FER2013_NAMES):
                skipped.append((item, f"unknown label: {label}"))
                continue
            try:
                pixels = np.array(row[fields["pixels"]].split(), np.int64)
            except ValueError:
                skipped.append((item, "corrupt pixels: not integers"))
                continue
            side = int(round(np.sqrt(pixels.size)))
            if pixels.size == 0 or side * side != pixels.size or pixels.min() < 0 or pixels.max() > 255:
                skipped.append((item, f"corrupt pixels: {pixels.size} values"))
                continue
            usage = row.get(fields.get("usage", ""), "") or ""
            split = USAGE_TO_SPLIT.get(usage.strip().lower())
            emotion = EMOTIONS.index(FER2013_NAMES[label])
            samples.append(Sample(id=f"row{row_no:06d}", media=ImageArray(pixels.reshape(side, side).astype(np.uint8),
                                                                        item),
                                  label=emotion, split=split))
    return Dataset("fer2013-csv", path, EMOTIONS, samples, skipped, precropped=True,
                   notes=["FER2013 labels 0-6 = angry, disgust, fear, happy, sad, surprise, neutral"])
