"""Splits: subject-independent k-fold, the dataset's official split, and seed 1's fixed-size split.

Subject-independent means every sample of a subject (CK+ `S###`, RAVDESS/CREMA-D actor) lands in one fold only;
samples without a subject count as their own subject.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from emotrace.data.schema import Dataset
from emotrace.errors import EmotraceError


def _groups(dataset: Dataset) -> list[str]:
    return [s.subject if s.subject is not None else f"__sample_{i}" for i, s in enumerate(dataset.samples)]


def subject_kfold(dataset: Dataset, k: int = 10, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (train indices, test indices) pairs; subjects are dealt to folds largest-first to even out fold sizes."""
    groups = _groups(dataset)
    sizes = Counter(groups)
    if k < 2 or k > len(sizes):
        raise ValueError(f"k must be between 2 and the number of subjects ({len(sizes)}), got {k}")
    rng = np.random.default_rng(seed)
    subjects = list(sizes)
    rng.shuffle(subjects)
    subjects.sort(key=lambda s: -sizes[s])  # stable: ties keep the shuffled order
    load = np.zeros(k, np.int64)
    fold_of: dict[str, int] = {}
    for s in subjects:
        f = int(np.argmin(load))
        fold_of[s] = f
        load[f] += sizes[s]
    fold = np.array([fold_of[g] for g in groups])
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(k)]


def official_split(dataset: Dataset) -> dict[str, np.ndarray]:
    """Indices per split name the dataset itself assigns (FER2013 Usage, FER+ folders, Aff-Wild2 sets)."""
    out: dict[str, list[int]] = {}
    for i, s in enumerate(dataset.samples):
        if s.split is not None:
            out.setdefault(s.split, []).append(i)
    return {k: np.array(v) for k, v in out.items()}


def fixed_size_split(dataset: Dataset, train: int, valid: int, by_subject: bool = False,
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Seed 1's split: `train` and `valid` samples drawn at random, the rest is test (5000/1000/rest on CREMA-D).

    With `by_subject`, whole subjects are drawn until each count is reached, so no subject spans two parts.
    """
    n = len(dataset)
    if train + valid > n:
        raise ValueError(f"train + valid = {train + valid} exceeds the {n} samples")
    rng = np.random.default_rng(seed)
    if not by_subject:
        order = rng.permutation(n)
        return {"train": np.sort(order[:train]), "valid": np.sort(order[train:train + valid]),
                "test": np.sort(order[train + valid:])}
    groups = np.array(_groups(dataset))
    subjects = np.unique(groups)
    rng.shuffle(subjects)
    parts: dict[str, list[int]] = {"train": [], "valid": [], "test": []}
    for s in subjects:
        members = np.flatnonzero(groups == s).tolist()
        if len(parts["train"]) < train:
            parts["train"] += members
        elif len(parts["valid"]) < valid:
            parts["valid"] += members
        else:
            parts["test"] += members
    return {k: np.array(sorted(v), np.int64) for k, v in parts.items()}


def split_dataset(ds: Dataset, split: str, seed: int, train_split: str = "train", valid_split: str = "valid",
                  test_split: str = "", kfold: int = 10, fold: int = 0, fixed_sizes: tuple[int, int] = (5000, 1000),
                  by_subject: bool = True) -> dict[str, Dataset]:
    """`train`, `valid` (and `test`) parts of `ds` by one of three rules.

    - official: the dataset's own splits, named by `train_split` / `valid_split` / `test_split`;
    - kfold: subject k-fold; fold `fold` is the test part, the next fold's subjects are taken out of training as
      validation, so the test fold stays unseen;
    - fixed: `fixed_sizes` training and validation samples (by subject unless told otherwise), the rest test.
    """
    if split == "official":
        parts = official_split(ds)
        out = {}
        for role, name in (("train", train_split), ("valid", valid_split), ("test", test_split)):
            if name:
                if name not in parts:
                    raise EmotraceError(f"split {name!r} not in {ds.name} (has: {', '.join(parts) or 'none'}); "
                                        "use split: kfold or fixed")
                out[role] = ds.subset(parts[name])
        return out
    if split == "kfold":
        folds = subject_kfold(ds, k=kfold, seed=seed)
        if not 0 <= fold < kfold:
            raise EmotraceError(f"fold must be 0..{kfold - 1}")
        train, test = folds[fold]
        _, valid = folds[(fold + 1) % kfold]
        train = np.setdiff1d(train, valid)
        return {"train": ds.subset(train), "valid": ds.subset(valid), "test": ds.subset(test)}
    if split == "fixed":
        parts = fixed_size_split(ds, fixed_sizes[0], fixed_sizes[1], by_subject=by_subject, seed=seed)
        return {k: ds.subset(v) for k, v in parts.items()}
    raise EmotraceError(f"split must be official, kfold or fixed, not {split!r}")
