"""Seed 1's fixed-length clip rule and seed 4's sliding windows on the edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from emotrace.data.clips import FixedLengthClips, SlidingWindows, UniformClips, create_sampler


@pytest.mark.parametrize("n, clips", [(0, 0), (34, 0), (35, 1), (74, 1), (75, 1), (76, 1), (149, 1), (150, 2),
                                      (151, 2), (225, 3)])
def test_fixed_length_counts(n, clips):
    out = FixedLengthClips(75, 35)(n)
    assert len(out) == clips
    assert all(len(c) == 75 for c in out)
    assert all(c.max() < n for c in out)


def test_fixed_length_padding_repeats_last_frame():
    (clip,) = FixedLengthClips(75, 35)(35)
    assert clip[:35].tolist() == list(range(35))
    assert clip[35:].tolist() == [34] * 40


def test_fixed_length_keeps_first_frames_and_splits_long():
    (c76,) = FixedLengthClips()(76)
    assert c76.tolist() == list(range(75))
    (c149,) = FixedLengthClips()(149)
    assert c149.tolist() == list(range(75))
    a, b = FixedLengthClips()(151)
    assert a.tolist() == list(range(75)) and b.tolist() == list(range(75, 150))
    assert len(FixedLengthClips(split_long=False)(151)) == 1


def test_sliding_windows_predict_next():
    pairs = SlidingWindows(window=100, stride=50).windows(250)
    # a window starting at 150 would need frame 250 as its target: there is none
    assert [(int(w[0]), int(w[-1]), t) for w, t in pairs] == [(0, 99, 100), (50, 149, 150), (100, 199, 200)]
    assert len(SlidingWindows(100).windows(100)) == 0  # no frame after the window
    assert len(SlidingWindows(100, predict_next=False).windows(100)) == 1


def test_sliding_windows_never_bridge_invalid_frames_or_gaps():
    valid = np.ones(30, bool)
    valid[12] = False
    pairs = SlidingWindows(window=5, stride=1).windows(30, valid)
    for w, t in pairs:
        assert valid[w].all() and valid[t]
        assert not (w[0] <= 12 <= t)
    assert len(pairs) == (12 - 5) + (17 - 5)
    index = np.r_[1:11, 20:30]  # numbering jumps from 10 to 20
    pairs = SlidingWindows(window=5, stride=1).windows(20, None, index)
    assert all(np.all(np.diff(index[np.r_[w, t]]) == 1) for w, t in pairs)
    assert len(pairs) == 10


def test_uniform_and_factory():
    (c,) = UniformClips(4)(10)
    assert c.tolist() == [0, 3, 6, 9]
    (short,) = UniformClips(6)(3)
    assert sorted(set(short.tolist())) == [0, 1, 2]
    assert isinstance(create_sampler("fixed", length=10, min_frames=5), FixedLengthClips)
    with pytest.raises(ValueError, match="unknown clip sampler"):
        create_sampler("nope")
