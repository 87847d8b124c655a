"""Subject-independent folds, official splits and seed 1's fixed-size split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emotrace.data.readers import open_dataset
from emotrace.data.schema import Dataset, ImageArray, Sample
from emotrace.data.splits import fixed_size_split, official_split, subject_kfold
from tests.helpers import CKPLUS


def _toy(n_subjects: int = 12, per: int = 5) -> Dataset:
    px = np.zeros((4, 4), np.uint8)
    samples = [Sample(id=f"{s}-{i}", media=ImageArray(px), label=i % 3, subject=f"S{s:03d}",
                      split="train" if s < 9 else "valid") for s in range(n_subjects) for i in range(per + s % 3)]
    return Dataset("toy", Path("."), ("a", "b", "c"), samples)


def _check_folds(ds: Dataset, folds):
    seen = np.zeros(len(ds), int)
    for train, test in folds:
        assert set(train).isdisjoint(test)
        train_subj = {ds.samples[i].subject for i in train}
        test_subj = {ds.samples[i].subject for i in test}
        assert train_subj.isdisjoint(test_subj)
        seen[test] += 1
    assert (seen == 1).all()


def test_subject_kfold_toy():
    ds = _toy()
    folds = subject_kfold(ds, k=4, seed=3)
    _check_folds(ds, folds)
    sizes = [len(t) for _, t in folds]
    assert max(sizes) - min(sizes) <= 7
    assert [t.tolist() for _, t in folds] == [t.tolist() for _, t in subject_kfold(ds, k=4, seed=3)]
    with pytest.raises(ValueError):
        subject_kfold(ds, k=13)


@pytest.mark.skipif(not CKPLUS.is_dir(), reason=f"CK+48 data not found at {CKPLUS}")
def test_ck48_ten_fold_subject_independent():
    ds = open_dataset(CKPLUS)
    _check_folds(ds, subject_kfold(ds, k=10))


def test_official_and_fixed_size():
    ds = _toy()
    off = official_split(ds)
    assert set(off) == {"train", "valid"} and len(off["train"]) + len(off["valid"]) == len(ds)
    parts = fixed_size_split(ds, train=30, valid=10, seed=0)
    assert (len(parts["train"]), len(parts["valid"]), len(parts["test"])) == (30, 10, len(ds) - 40)
    by_subj = fixed_size_split(ds, train=30, valid=10, by_subject=True, seed=0)
    groups = [{ds.samples[i].subject for i in by_subj[k]} for k in ("train", "valid", "test")]
    assert groups[0].isdisjoint(groups[1]) and groups[1].isdisjoint(groups[2]) and groups[0].isdisjoint(groups[2])
    assert len(by_subj["train"]) >= 30
    with pytest.raises(ValueError):
        fixed_size_split(ds, train=len(ds), valid=1)
