"""Rendered sequences: labels, change points and fades are exact; perturbations stay within their bounds."""

import numpy as np

from emotrace.data.synthetic import (
    CkSequence,
    Perturbation,
    Segment,
    ckplus_segments,
    ckplus_test_segments,
    render,
    still_segments,
)

STILL = Perturbation(shift_px=0, rotate_deg=0, scale_step=0, noise_std=(0, 0), light_step=0, contrast_step=0,
                     blur_start_prob=0, occlusion_prob=0)


def _img(value: int) -> np.ndarray:
    return np.full((48, 48), value, np.uint8)


def _onehot(i: int) -> np.ndarray:
    return np.eye(7, dtype=np.float32)[i]


def test_fade_switches_the_label_at_its_midpoint_and_blends_pixels_and_targets():
    segs = [Segment(_img(0), _onehot(6), 6, 10), Segment(_img(200), _onehot(3), 3, 10, fade=3)]
    r = render(segs, np.random.default_rng(0), STILL)
    assert r.frames.shape == (20, 48, 48) and r.frames.dtype == np.uint8
    # fade weights 1/4, 2/4, 3/4: the label changes where the new image weighs half
    assert r.labels.tolist() == [6] * 11 + [3] * 9
    assert r.change_points.tolist() == [11]
    assert [int(r.frames[i, 0, 0]) for i in (9, 10, 11, 12, 13)] == [0, 50, 100, 150, 200]
    assert np.allclose(r.targets[10], 0.75 * _onehot(6) + 0.25 * _onehot(3))


def test_no_perturbation_reproduces_the_stills_exactly():
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 255, (2, 48, 48), dtype=np.uint8)
    r = render([Segment(imgs[0], _onehot(0), 0, 5), Segment(imgs[1], _onehot(1), 1, 5)], rng, STILL)
    assert np.array_equal(r.frames[:5], np.repeat(imgs[:1], 5, 0))
    assert np.array_equal(r.frames[5:], np.repeat(imgs[1:], 5, 0))


def test_motion_is_small_and_an_occlusion_is_one_flat_rectangle():
    rng = np.random.default_rng(2)
    base = np.tile(np.linspace(0, 255, 48, dtype=np.float32), (48, 1)).astype(np.uint8)
    p = Perturbation(noise_std=(0, 0), blur_start_prob=0, light_step=0, contrast_step=0, occlusion_prob=1.0)
    r = render([Segment(base, _onehot(0), 0, 60)], rng, p)
    diffs = np.abs(r.frames[1:].astype(int) - r.frames[:-1].astype(int)).mean(axis=(1, 2))
    assert np.median(diffs) < 12  # consecutive frames stay close: drift, not jumps
    flat = [t for t in range(60) if np.any(np.all(r.frames[t] == r.frames[t][None, :, :1], axis=0))]
    assert flat, "an occluder (constant block) appears"


def test_still_segments_change_label_at_every_boundary_and_fill_the_length():
    rng = np.random.default_rng(3)
    labels = np.array([0, 1, 2, 3, 4, 5, 6] * 3)
    images = rng.integers(0, 255, (21, 48, 48), dtype=np.uint8)
    segs = still_segments(images, np.eye(7, dtype=np.float32)[labels], labels, 200, rng)
    assert sum(s.frames for s in segs) == 200
    assert all(a.label != b.label for a, b in zip(segs, segs[1:], strict=False))
    assert all(s.fade < s.frames for s in segs)


def test_ckplus_chain_goes_neutral_then_apex_for_each_sequence():
    rng = np.random.default_rng(4)
    seqs = [CkSequence(_img(10), np.stack([_img(20)] * 3), 3), CkSequence(_img(30), np.stack([_img(40)] * 3), 0)]
    r = render(ckplus_segments(seqs, 7, 6, rng), rng, STILL)
    runs = [int(r.labels[0])] + [int(r.labels[c]) for c in r.change_points]
    assert runs == [6, 3, 6, 0]
    test = render(ckplus_test_segments(seqs[0], 7, 6), rng, STILL)
    assert len(test.labels) == 12 + 4 + 6 * 3 and test.labels[-1] == 3 and test.labels[0] == 6
