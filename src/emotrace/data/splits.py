"""Splits: subject-independent k-fold, the dataset's official split, and seed 1's fixed-size split.

Subject-independent means every sample of a subject (CK+ `S###`, RAVDESS/CREMA-D actor) lands in one fold only;
samples without a subject count as their own subject.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from emotrace.data.schema import Dataset


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
