"""FER+ in its official layout: `FER2013{Train,Valid,Test}/label.csv` with ten annotator votes per image.

`label.csv` rows are `name, box, neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF`.
Where `fer2013_label.csv` sits beside it, each image's original FER2013 label is read too.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotrace.errors import EmotraceError
from emotrace.labels import EMOTIONS, FERPLUS_TO_EMOTION, FERPLUS_VOTE_COLUMNS, canonical

SPLIT_FOLDERS = {"train": "FER2013Train", "valid": "FER2013Valid", "test": "FER2013Test"}

# Column index in the vote vector for each of emotrace's seven emotions.
_VOTE_INDEX = np.array([FERPLUS_VOTE_COLUMNS.index(next(k for k, v in FERPLUS_TO_EMOTION.items() if v == e))
                        for e in EMOTIONS])


@dataclass
class FerPlusSplit:
    """One split held in memory: 48x48 gray images with their ten-vote rows."""

    names: list[str]
    images: np.ndarray  # (N, 48, 48) uint8
    votes: np.ndarray  # (N, 10) float32, FERPLUS_VOTE_COLUMNS order
    fer2013_labels: np.ndarray  # (N,) int64 index into EMOTIONS, -1 where unknown

    def __len__(self) -> int:
        return len(self.names)

    def emotion_votes(self) -> np.ndarray:
        """Votes for emotrace's seven emotions, (N, 7), in EMOTIONS order (contempt, unknown, NF left out)."""
        return self.votes[:, _VOTE_INDEX]

    def soft_labels(self) -> np.ndarray:
        """The vote distribution over the seven emotions (FER+ paper's 'probability' target); rows sum to 1 or 0."""
        v = self.emotion_votes()
        s = v.sum(1, keepdims=True)
        return np.divide(v, s, out=np.zeros_like(v), where=s > 0)

    def plurality(self) -> np.ndarray:
        """Index into FERPLUS_VOTE_COLUMNS of the most-voted column (first on ties), over all ten columns."""
        return self.votes.argmax(1)

    def majority_labels(self, strict: bool = False) -> np.ndarray:
        """Index into EMOTIONS of the plurality label, or -1 where it is contempt, unknown or not-a-face.

        With `strict`, the FER+ paper's majority rule: the top column must hold more than half of all votes.
        """
        top = self.plurality()
        out = np.full(len(self), -1, np.int64)
        for i, col in enumerate(_VOTE_INDEX):
            out[top == col] = i
        if strict:
            out[self.votes.max(1) <= 0.5 * self.votes.sum(1)] = -1
        return out


def read_split(root: str | Path, split: str, cache_dir: str | Path | None = None) -> FerPlusSplit:
    """Read one split of FER+ (`train`, `valid` or `test`); decoded images are cached as .npz for speed."""
    folder = Path(root) / SPLIT_FOLDERS[split]
    label_csv = folder / "label.csv"
    if not label_csv.is_file():
        raise EmotraceError(f"FER+ split {split!r}: {label_csv} not found")
    rows = []
    with open(label_csv, newline="") as fh:
        for row in csv.reader(fh):
            if len(row) != 12:
                continue
            rows.append((row[0], [float(x) for x in row[2:]]))
    names = [r[0] for r in rows]
    votes = np.array([r[1] for r in rows], np.float32).reshape(-1, 10)

    fer_labels = np.full(len(names), -1, np.int64)
    orig = folder / "fer2013_label.csv"
    if orig.is_file():
        by_name = {}
        with open(orig, newline="") as fh:
            for row in csv.DictReader(fh):
                by_name[row["image"]] = EMOTIONS.index(canonical(row["fer2013_label"]))
        fer_labels = np.array([by_name.get(n, -1) for n in names], np.int64)

    images = _load_images(folder, names, cache_dir)
    return FerPlusSplit(names=names, images=images, votes=votes, fer2013_labels=fer_labels)


def _load_images(folder: Path, names: list[str], cache_dir: str | Path | None) -> np.ndarray:
    key = hashlib.sha1(("\n".join(names) + str(folder.resolve())).encode()).hexdigest()[:16]
    root = Path(cache_dir or os.environ.get("EMOTRACE_CACHE", Path.home() / ".cache" / "emotrace"))
    cache = root / f"ferplus-{key}.npy"
    if cache.is_file():
        return np.load(cache)
    images = np.zeros((len(names), 48, 48), np.uint8)
    for i, name in enumerate(names):
        img = cv2.imread(str(folder / name), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise EmotraceError(f"FER+ image unreadable: {folder / name}")
        if img.shape != (48, 48):
            img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)
        images[i] = img
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npy")
    np.save(tmp, images)
    os.replace(tmp, cache)
    return images
