from pathlib import Path

import numpy as np

from emotrace.data.photo_crops import group_holdout, group_of


def test_groups_are_performers_movies_and_subjects():
    assert group_of(Path("0111d02.jpg"), "tfeid") == "01"
    assert group_of(Path("AlexEmma_000225840_00000024.png"), "sfew") == "AlexEmma"
    assert group_of(Path("Harry_Potter_3_005512_00000010.png"), "sfew") == "Harry_Potter"
    assert group_of(Path("S005_001_00000011.png"), "ckplus") == "S005"


def test_holdout_takes_whole_groups_and_is_fixed_by_the_seed():
    groups = np.array([f"g{i % 12}" for i in range(120)])
    held = group_holdout(groups, 0.25, seed=0)
    assert len(set(groups[held])) == 3
    assert not set(groups[held]) & set(groups[~held])
    assert (held == group_holdout(groups, 0.25, seed=0)).all()
    assert not (held == group_holdout(groups, 0.25, seed=1)).all()
