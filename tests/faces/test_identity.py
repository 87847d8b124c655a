"""The face descriptors: shipped or wheel weights, checked; the eye alignment; a clear line when missing."""

import builtins
import importlib.util

import numpy as np
import pytest

from emotrace.errors import EmotraceError
from emotrace.faces import identity


def test_a_missing_dlib_is_one_clear_line_when_the_embedder_is_made(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "dlib" else real(name, *a))
    with pytest.raises(EmotraceError, match="dlib-bin and face-recognition-models.*--person-distance 0"):
        identity.FaceEmbedder()


@pytest.mark.parametrize("warm", [False, True])
def test_a_dlib_that_fails_to_load_says_so_at_the_first_face(monkeypatch, warm):
    """dlib is imported on a thread of its own; its failure reaches the caller who needs it, as one line."""
    real = builtins.__import__

    def no_dlib(name, *args, **kwargs):
        if name == "dlib":
            raise ImportError("No module named 'dlib'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dlib)
    emb = identity.FaceEmbedder()
    if warm:
        emb.warm()
    with pytest.raises(EmotraceError, match="dlib-bin and face-recognition-models.*--person-distance 0"):
        emb.describe([np.zeros((150, 150, 3), np.uint8)])
    with pytest.raises(EmotraceError, match="dlib-bin"):  # and again, not a hang or a None
        emb.chip(np.zeros((64, 64, 3), np.uint8), np.array([0, 0, 32, 32]))


def test_a_weight_file_that_is_not_the_measured_one_is_refused(tmp_path):
    bad = tmp_path / "w.dat"
    bad.write_bytes(b"not the model")
    with pytest.raises(EmotraceError, match="is not the file emotrace was measured with"):
        identity._check(str(bad), identity.DESCRIPTOR_SHA256)
    with pytest.raises(EmotraceError, match="missing"):
        identity._check(str(tmp_path / "none.dat"), identity.DESCRIPTOR_SHA256)


@pytest.mark.parametrize("descriptor", identity.DESCRIPTORS)
def test_descriptors_of_one_face_are_close_wherever_its_box_sits(descriptor):
    pytest.importorskip("dlib", reason="dlib-bin not installed")
    from emotrace.faces.detectors import create_detector
    from emotrace.sample import astronaut_bgr

    img = astronaut_bgr()
    dets = create_detector("auto").detect(img)
    assert len(dets) == 1
    emb = identity.FaceEmbedder(descriptor=descriptor)
    near = 0.4 * identity.DEFAULT_DISTANCE[descriptor]  # well inside what links: measured 0.08 of 0.80, 0.06 of 0.38
    box = dets.boxes[0]
    shifted = np.roll(img, (7, 5), axis=(0, 1))
    moved = box + np.array([5, 7, 5, 7], np.float32)
    d = emb([(img, box), (img, moved), (shifted, moved)])
    assert d.shape == (3, emb.dim) and d.dtype == np.float32
    assert np.linalg.norm(d[0] - d[1]) < near  # the same face, its box moved: the 5 points place it again
    assert np.linalg.norm(d[0] - d[2]) < near
    warmed = identity.FaceEmbedder(descriptor=descriptor)
    warmed.warm()  # loaded in the background before the first face: the same descriptor
    np.testing.assert_array_equal(warmed([(img, box)])[0], d[0])
    m = identity.FaceEmbedder(mirror=True, descriptor=descriptor)([(img, box)])
    assert m.shape == (1, emb.dim) and 0 < np.linalg.norm(m[0] - d[0]) < near


def test_faceres_descriptors_are_unit_length_and_its_file_is_the_measured_one():
    pytest.importorskip("dlib", reason="dlib-bin not installed")
    identity._check(str(identity.faceres_path()), identity.FACERES_SHA256)
    emb = identity.FaceEmbedder()
    assert emb.descriptor == "hse-faceres" and emb.dim == 1024
    rng = np.random.default_rng(0)
    chips = [rng.integers(0, 256, (identity.FACERES_PX, identity.FACERES_PX, 3), dtype=np.uint8) for _ in range(2)]
    d = emb.describe(chips)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, rtol=1e-5)
    flat = emb.describe([np.zeros_like(chips[0])])  # no texture, no feature: a zero vector, not NaN
    assert np.isfinite(flat).all()
    assert emb.describe([]).shape == (0, 1024)


def test_the_eye_alignment_puts_both_eye_centres_on_the_template():
    # dlib's 5 points: two corners of one eye, two of the other, the nose; here the face is tilted and small
    pts = np.array([[130, 90], [110, 92], [60, 100], [80, 98], [97, 130]], np.float32)
    m = identity.eye_align(pts)
    eyes = np.array([pts[2:4].mean(0), pts[0:2].mean(0)])  # the left eye in the image first
    placed = eyes @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(placed, identity.FACERES_EYES, atol=1e-3)


def test_unknown_descriptors_and_dlib_only_options_are_refused():
    with pytest.raises(EmotraceError, match="unknown face descriptor 'arcface'"):
        identity.FaceEmbedder(descriptor="arcface")
    with pytest.raises(EmotraceError, match="jitters are dlib's own"):
        identity.FaceEmbedder(jitters=2)


def test_the_configs_default_distance_is_the_default_descriptors():
    from emotrace.analyzer_config import AnalyzerConfig

    assert AnalyzerConfig().person_distance == identity.DEFAULT_DISTANCE[identity.DEFAULT_DESCRIPTOR]
