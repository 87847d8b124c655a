"""Video-like sequences built from this machine's datasets for temporal training and evaluation: FER+ stills
with emotion changes at random points, chained CK+ subjects, and fixed CK+ test clips (rendering itself is in
`data/synthetic.py`)."""

from __future__ import annotations

import numpy as np

from emotrace.data.synthetic import (
    CkSequence,
    RenderedSequence,
    ckplus_segments,
    ckplus_test_segments,
    render,
    still_segments,
)
from emotrace.labels import EMOTIONS

NEUTRAL = EMOTIONS.index("neutral")


def ferplus_sequences(root: str, split: str, count: int, length: int, seed: int) -> list[RenderedSequence]:
    """`count` sequences from FER+ `split` stills whose plurality label is one of the seven emotions."""
    from emotrace.data.readers.ferplus import read_split

    data = read_split(root, split)
    labels = data.majority_labels()
    keep = labels >= 0
    images, soft, labels = data.images[keep], data.soft_labels()[keep], labels[keep]
    rng = np.random.default_rng(seed)
    return [render(still_segments(images, soft, labels, length, rng), rng) for _ in range(count)]


def ckplus_subjects(root: str) -> dict[str, list[CkSequence]]:
    """CK+48 sequences with a neutral first frame, by subject (contempt is not one of the seven: left out)."""
    from emotrace.data.readers import open_dataset

    ds = open_dataset(root, include_contempt=False)
    out: dict[str, list[CkSequence]] = {}
    for s in ds.samples:
        if not (s.meta or {}).get("has_neutral_first"):
            continue
        frames = s.media.load()
        gray = frames[..., 0] if frames.ndim == 4 else frames
        label = EMOTIONS.index(ds.classes[s.label])
        out.setdefault(str(s.subject), []).append(CkSequence(gray[0], gray[1:4], label))
    return out


def ckplus_chains(subjects: dict[str, list[CkSequence]], clips_per_subject: int, seed: int,
                  ) -> list[RenderedSequence]:
    """Training clips: per subject, `clips_per_subject` chains of 1-3 of its sequences in random order."""
    rng = np.random.default_rng(seed)
    eye_n = len(EMOTIONS)
    out = []
    for name in sorted(subjects):
        seqs = subjects[name]
        for _ in range(clips_per_subject):
            k = int(rng.integers(1, min(3, len(seqs)) + 1))
            chosen = [seqs[i] for i in rng.choice(len(seqs), size=k, replace=False)]
            out.append(render(ckplus_segments(chosen, eye_n, NEUTRAL, rng), rng))
    return out


def ckplus_test_clips(subjects: dict[str, list[CkSequence]], seed: int) -> tuple[list[RenderedSequence], list[int]]:
    """One fixed clip per sequence of `subjects` and its sequence label."""
    rng = np.random.default_rng(seed)
    clips, labels = [], []
    for name in sorted(subjects):
        for seq in subjects[name]:
            clips.append(render(ckplus_test_segments(seq, len(EMOTIONS), NEUTRAL), rng))
            labels.append(seq.label)
    return clips, labels


def fold_subjects(subjects: dict[str, list[CkSequence]], kfold: int, fold: int, seed: int = 0) -> set[str]:
    """The subjects of fold `fold`: subjects sorted, shuffled with `seed`, dealt round-robin into `kfold` folds."""
    names = sorted(subjects)
    order = np.random.default_rng(seed).permutation(len(names))
    return {names[i] for k, i in enumerate(order) if k % kfold == fold}
