import numpy as np
import torch

from emotrace.train.augment import random_affine
from tests.helpers import FERPLUS, needs_ferplus


def test_augmentation_keeps_shape_and_range():
    x = torch.rand(6, 1, 48, 48)
    y = random_affine(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1 and not torch.equal(x, y)


@needs_ferplus
def test_ferplus_reader_counts():
    from emotrace.data.readers.ferplus import read_split

    tr, va = read_split(FERPLUS, "train"), read_split(FERPLUS, "valid")
    assert (len(tr), len(va)) == (28558, 3579)
    assert tr.votes.shape == (28558, 10) and (va.fer2013_labels >= 0).all()
    soft = va.soft_labels()
    keep = va.majority_labels() >= 0
    assert np.allclose(soft[keep].sum(1), 1)
