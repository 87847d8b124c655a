"""FER+ in its official layout: `FER2013{Train,Valid,Test}/label.csv` with ten annotator votes per image.

`label.csv` rows are `name, box, neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF`.
Where `fer2013_label.csv` sits beside it, each image's original FER2013 label is read too.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emotrace.data.npz import save_npz
from emotrace.data.schema import Dataset, ImageArray, Sample
from emotrace.errors import EmotraceError
from emotrace.labels import EMOTIONS, FERPLUS_TO_EMOTION, FERPLUS_VOTE_COLUMNS, canonical

log = logging.getLogger("emotrace")

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
    unreadable: list[str] = field(default_factory=list)  # names in label.csv whose image is missing or corrupt

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, idx: np.ndarray) -> FerPlusSplit:
        """Rows `idx` of this split (short runs and tests)."""
        return FerPlusSplit([self.names[i] for i in idx], self.images[idx], self.votes[idx],
                            self.fer2013_labels[idx], self.unreadable)

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

    def class_votes(self, include_contempt: bool = False) -> np.ndarray:
        """Votes for the seven emotions (and contempt as an eighth column), (N, 7 or 8), in class order."""
        cols = _VOTE_INDEX if not include_contempt else np.append(_VOTE_INDEX, FERPLUS_VOTE_COLUMNS.index("contempt"))
        return self.votes[:, cols]

    def reference_majority(self, include_contempt: bool = False) -> np.ndarray:
        """Labels under the FERPlus reference code's majority rule, -1 where an image has none.

        Single votes are dropped as outliers, then the top column must hold more than half of the remaining votes;
        images won by unknown, not-a-face (or contempt, without `include_contempt`) get -1. Index into EMOTIONS,
        with contempt = 7.
        """
        cleaned = np.where(self.votes > 1, self.votes, 0)
        top = cleaned.argmax(1)
        ok = cleaned.max(1) > 0.5 * cleaned.sum(1)
        out = np.full(len(self), -1, np.int64)
        cols = list(_VOTE_INDEX) + ([FERPLUS_VOTE_COLUMNS.index("contempt")] if include_contempt else [])
        for i, col in enumerate(cols):
            out[(top == col) & ok] = i
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

    images, ok = _load_images(folder, names, cache_dir)
    unreadable = [n for n, good in zip(names, ok, strict=True) if not good]
    if unreadable:
        log.warning("FER+ %s: %d image(s) listed in label.csv are missing or corrupt and were skipped",
                    split, len(unreadable))
        keep = np.flatnonzero(ok)
        names = [names[i] for i in keep]
        images, votes, fer_labels = images[keep], votes[keep], fer_labels[keep]
    return FerPlusSplit(names=names, images=images, votes=votes, fer2013_labels=fer_labels, unreadable=unreadable)


def _load_images(folder: Path, names: list[str], cache_dir: str | Path | None) -> tuple[np.ndarray, np.ndarray]:
    """All images of a split as one array plus a readable-mask; decoded once, then cached as .npz, keyed by the
    names and the folder the pixels are really in (a folder of links to another's images shares its cache)."""
    real = (folder / names[0]).resolve().parent if names else folder.resolve()
    key = hashlib.sha1(("\n".join(names) + str(real)).encode()).hexdigest()[:16]
    root = Path(cache_dir or os.environ.get("EMOTRACE_CACHE", Path.home() / ".cache" / "emotrace"))
    cache = root / f"ferplus-{key}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return z["images"], z["ok"]
    images = np.zeros((len(names), 48, 48), np.uint8)
    ok = np.zeros(len(names), bool)
    for i, name in enumerate(names):
        img = cv2.imread(str(folder / name), cv2.IMREAD_GRAYSCALE)
        if img is None:
            continue
        if img.shape != (48, 48):
            img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)
        images[i] = img
        ok[i] = True
    save_npz(cache, images=images, ok=ok)
    return images, ok


LABEL_MODES = ("majority", "plurality", "soft", "fer2013")


def looks_like(path: Path) -> bool:
    return any((path / f / "label.csv").is_file() for f in SPLIT_FOLDERS.values()) or (
        path.name in SPLIT_FOLDERS.values() and (path / "label.csv").is_file())


def read(path: Path, label_mode: str = "majority", include_contempt: bool = False,
         splits: tuple[str, ...] | None = None) -> Dataset:
    """FER+ in the common schema, with the FER+ paper's label modes.

    - `majority`: as the FERPlus reference code: single votes are dropped as outliers, then the top column must
      hold more than half of the remaining votes;
    - `plurality`: the most-voted column (first column on ties);
    - `soft`: the vote distribution over the classes as `soft_label` (the paper's probabilistic target), with
      the plurality class as `label`;
    - `fer2013`: the image's original FER2013 label from `fer2013_label.csv`.
    Images whose winning column is unknown or not-a-face are dropped, as in the paper; contempt is a class only
    with `include_contempt`. Every image gets valence/arousal *proxies* from its vote distribution.
    """
    from emotrace.data.proxies import va_from_distribution
    from emotrace.data.readers.common import seven_or_eight

    if label_mode not in LABEL_MODES:
        raise EmotraceError(f"unknown FER+ label mode {label_mode!r}; choose from {', '.join(LABEL_MODES)}")
    if path.name in SPLIT_FOLDERS.values():
        wanted = {k: v for k, v in SPLIT_FOLDERS.items() if v == path.name}
        root = path.parent
    else:
        wanted = {k: v for k, v in SPLIT_FOLDERS.items() if (path / v / "label.csv").is_file()}
        root = path
    if splits:
        wanted = {k: v for k, v in wanted.items() if k in splits}
    classes = seven_or_eight(include_contempt)
    col_of_class = np.array([FERPLUS_VOTE_COLUMNS.index(_FERPLUS_NAME[c]) for c in classes])
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    listed = []
    for split, folder in wanted.items():
        data = read_split(root, split)
        listed.append(f"{split} {len(data) + len(data.unreadable)}")
        skipped += [(f"{folder}/{n}", "missing or corrupt image") for n in data.unreadable]
        class_votes = data.votes[:, col_of_class]
        total = class_votes.sum(1, keepdims=True)
        dist = np.divide(class_votes, total, out=np.zeros_like(class_votes), where=total > 0)
        va = va_from_distribution(dist[:, :len(EMOTIONS)])
        # The FERPlus reference code's majority mode first drops single votes as outliers, then needs > 50%.
        cleaned = np.where(data.votes > 1, data.votes, 0)
        top = cleaned.argmax(1) if label_mode == "majority" else data.plurality()
        for i, name in enumerate(data.names):
            item = f"{folder}/{name}"
            col = FERPLUS_VOTE_COLUMNS[top[i]]
            if label_mode == "fer2013":
                label = int(data.fer2013_labels[i])
                if label < 0:
                    skipped.append((item, "no original FER2013 label"))
                    continue
            else:
                if col in ("unknown", "NF"):
                    skipped.append((item, "unknown or not a face (votes)"))
                    continue
                if col == "contempt" and not include_contempt:
                    skipped.append((item, "contempt excluded"))
                    continue
                if label_mode == "majority" and not cleaned[i].max() > 0.5 * cleaned[i].sum():
                    skipped.append((item, "no majority (after dropping single votes, top column holds half or less)"))
                    continue
                label = classes.index(_CLASS_OF_COLUMN[col])
            samples.append(Sample(id=item, media=ImageArray(data.images[i], item), label=label, split=split,
                                  soft_label=dist[i] if label_mode == "soft" else None,
                                  valence_arousal=va[i], va_proxy=True,
                                  meta={"votes": data.votes[i]}))
    notes = [f"images listed in label.csv: {', '.join(listed)}",
             f"FER+ label mode: {label_mode}; unknown and not-a-face dropped; contempt "
             f"{'kept as an 8th class' if include_contempt else 'dropped'}",
             "valence/arousal are proxies from the vote distribution through circumplex coordinates"]
    return Dataset("ferplus", root, classes, samples, skipped, precropped=True, notes=notes)


_FERPLUS_NAME = {v: k for k, v in FERPLUS_TO_EMOTION.items() if v is not None} | {"contempt": "contempt"}
_CLASS_OF_COLUMN = {k: v for k, v in FERPLUS_TO_EMOTION.items() if v is not None} | {"contempt": "contempt"}
