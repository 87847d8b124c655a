"""Photo datasets (CK+, TFEID, SFEW, any class-folder set) as the 48x48 crops the pipeline would make of them.

Every photo goes through `faces.photo.PhotoFaceFinder` (detector, padded retry, whole-image fallback) and the FER
alignment, exactly as `emotrace analyze photo.jpg` does, so a model trained on these crops sees at training time
what it sees in use. The biggest face of each photo is kept. Each photo also gets its group (CK+ subject, TFEID
performer, SFEW movie): every split here is by group, never by photo, because photos of one person (or one movie)
are related.

Crops are cached as one `.npz` per dataset under `.cache/photo-crops/`, keyed by the dataset's file list and the
crop settings; a rerun loads it in a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotrace.data.npz import save_npz
from emotrace.data.readers import open_dataset
from emotrace.data.schema import Dataset, FrameFiles, ImageFile
from emotrace.errors import EmotraceError

log = logging.getLogger("emotrace")

CACHE_DIR = Path(".cache/photo-crops")
CROP_VERSION = 1  # bump when faces.photo or the alignment changes what a crop looks like


@dataclass
class PhotoCrops:
    """One dataset's photos as aligned gray crops with labels (the dataset's class indices) and groups."""

    name: str
    images: np.ndarray  # (N, S, S) uint8
    labels: np.ndarray  # (N,) int64 into `classes`
    groups: np.ndarray  # (N,) str: subject / performer / movie
    crop: np.ndarray  # (N,) bool: found only as a crop (padded retry or whole image)
    kind: np.ndarray  # (N,) str: apex | onset | neutral | photo
    paths: np.ndarray  # (N,) str
    classes: tuple[str, ...]

    def subset(self, idx: np.ndarray) -> PhotoCrops:
        return PhotoCrops(self.name, self.images[idx], self.labels[idx], self.groups[idx], self.crop[idx],
                          self.kind[idx], self.paths[idx], self.classes)

    def __len__(self) -> int:
        return len(self.labels)


def group_of(path: Path, dataset: str) -> str:
    """The unit photos must be split by: TFEID performer (first two digits), SFEW movie (name before the frame
    time), CK+ subject (S###)."""
    stem = path.stem
    if dataset == "tfeid":
        return stem[:2]
    if dataset == "sfew":
        m = re.match(r"(.+?)_\d", stem)
        return m.group(1) if m else stem
    m = re.match(r"(S\d+)_", stem)
    return m.group(1) if m else stem


def _photo_list(ds: Dataset, name: str) -> list[tuple[Path, int, str]]:
    """(path, label, kind) per photo. CK+ sequences give their neutral first frame and their last three frames
    (CK+48 keeps the three frames nearest the apex); contempt stays labelled as such."""
    out: list[tuple[Path, int, str]] = []
    neutral = ds.classes.index("neutral") if "neutral" in ds.classes else -1
    seen_neutral: set[Path] = set()
    for s in ds.samples:
        if isinstance(s.media, ImageFile):
            out.append((s.media.path, int(s.label), "photo"))
        elif isinstance(s.media, FrameFiles):
            paths = list(s.media.paths)
            first, rest = paths[0], paths[1:]
            if "neutral" in str(first.parent.name) and neutral >= 0 and first not in seen_neutral:
                seen_neutral.add(first)
                out.append((first, neutral, "neutral"))
            else:
                rest = paths
            for i, p in enumerate(rest):
                out.append((p, int(s.label), "apex" if i == len(rest) - 1 else "onset"))
        else:
            raise EmotraceError(f"{name}: photo crops need image samples, not {type(s.media).__name__}")
    return out


def _cache_key(name: str, photos: list[tuple[Path, int, str]], size: int) -> str:
    h = hashlib.sha256(json.dumps([CROP_VERSION, size, name]).encode())
    for p, lab, kind in photos:
        h.update(f"{p.name}|{p.stat().st_size}|{lab}|{kind}\n".encode())
    return h.hexdigest()[:16]


def load_photo_crops(root: str | Path, name: str | None = None, size: int = 48,
                     cache_dir: Path = CACHE_DIR) -> PhotoCrops:
    """Crops of every photo of the dataset at `root` (cached)."""
    root = Path(root)
    if not root.exists():
        raise EmotraceError(f"dataset folder {root} not found")
    name = name or root.name.lower()
    ds = open_dataset(root)
    photos = _photo_list(ds, name)
    if not photos:
        raise EmotraceError(f"{root}: no photos found")
    path = cache_dir / f"{name}-{_cache_key(name, photos, size)}.npz"
    if path.exists():
        z = np.load(path, allow_pickle=False)
        return PhotoCrops(name, z["images"], z["labels"], z["groups"], z["crop"], z["kind"], z["paths"],
                          tuple(str(c) for c in z["classes"]))
    crops = _crop_all(photos, size)
    images, found = crops
    keep = np.array([f >= 0 for f in found])
    if (~keep).any():
        log.info("%s: %d of %d photos without a face (not even as a crop)", name, int((~keep).sum()), len(keep))
    pc = PhotoCrops(name, images[keep], np.array([lab for _, lab, _ in photos], np.int64)[keep],
                    np.array([group_of(p, name) for p, _, _ in photos])[keep],
                    np.array([f == 1 for f in found])[keep], np.array([k for _, _, k in photos])[keep],
                    np.array([str(p) for p, _, _ in photos])[keep], tuple(ds.classes))
    save_npz(path, compressed=True, images=pc.images, labels=pc.labels, groups=pc.groups, crop=pc.crop,
             kind=pc.kind, paths=pc.paths, classes=np.array(pc.classes))
    return pc


def _crop_all(photos: list[tuple[Path, int, str]], size: int) -> tuple[np.ndarray, list[int]]:
    """Aligned crops; found per photo: 0 detected, 1 crop, -1 nothing (image left black)."""
    from emotrace.faces.align import FaceAligner
    from emotrace.faces.detectors import create_detector
    from emotrace.faces.photo import PhotoFaceFinder
    from emotrace.sources.images import read_image

    finder = PhotoFaceFinder(create_detector("auto", min_score=0.7))
    aligner = FaceAligner(size=size)
    images = np.zeros((len(photos), size, size), np.uint8)
    found: list[int] = []
    try:
        for i, (p, _, _) in enumerate(photos):
            image = read_image(p)
            f = finder.find(image)
            if not len(f):
                found.append(-1)
                continue
            area = (f.boxes[:, 2] - f.boxes[:, 0]) * (f.boxes[:, 3] - f.boxes[:, 1])
            j = int(np.argmax(area))
            kp = None if f.keypoints is None else f.keypoints[j]
            images[i] = aligner.crop(image, f.boxes[j], kp)
            found.append(int(f.crop[j]))
    finally:
        finder.close()
        finder.detector.close()
    return images, found


def group_holdout(groups: np.ndarray, fraction: float = 0.25, seed: int = 0) -> np.ndarray:
    """Boolean mask of the rows whose group is held out (a fixed, seeded choice of whole groups)."""
    uniq = np.array(sorted(set(groups.tolist())))
    rng = np.random.default_rng(seed)
    held = rng.permutation(len(uniq))[:max(1, round(fraction * len(uniq)))]
    return np.isin(groups, uniq[held])
