import numpy as np

from emotrace.faces.shotcut import ShotCutDetector
from tests.helpers import astronaut_frames


def test_cut_between_different_pictures_but_not_within_a_moving_shot():
    d = ShotCutDetector()
    frames = astronaut_frames(6)
    assert not any(d.is_cut(f) for f in frames)
    night = (np.random.default_rng(0).integers(0, 60, frames[0].shape)).astype(np.uint8)
    night[:, :, 0] += 120  # a dark blue scene
    assert d.is_cut(night)
