import numpy as np
import pytest

from emotrace.faces.align import FER_TEMPLATE_48, FaceAligner, similarity_transform
from emotrace.faces.mask import apply_oval


def test_similarity_transform_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (4, 2))
    ang, s, t = 0.3, 1.7, np.array([5.0, -3.0])
    r = s * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    m = similarity_transform(src, src @ r.T + t)
    assert m[:, :2] == pytest.approx(r) and m[:, 2] == pytest.approx(t)


def test_keypoints_land_on_the_fer_template():
    # A face twice the template size, rolled by 20 degrees and shifted: after alignment the eyes sit where FER's do.
    ang = np.deg2rad(20)
    r = 2 * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    kps = FER_TEMPLATE_48 @ r.T + np.array([100.0, 60.0])
    al = FaceAligner(48)
    m = al.matrix(np.array([0, 0, 1, 1.0]), np.vstack([kps, kps[:2]]))
    mapped = np.c_[kps, np.ones(4)] @ m.T
    assert mapped == pytest.approx(FER_TEMPLATE_48, abs=1e-3)


def test_crops_have_model_size_without_keypoints_too():
    img = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    crops = FaceAligner(48).crops(img, np.array([[10, 10, 80, 90.0]]), None)
    assert crops.shape == (1, 48, 48) and crops.dtype == np.uint8


def test_oval_mask_hides_the_corners_only():
    crops = np.full((2, 48, 48), 200, np.uint8)
    masked = apply_oval(crops)
    assert masked[:, 0, 0].tolist() == [0, 0] and masked[:, 26, 24].tolist() == [200, 200]


def test_mesh_mask_keeps_the_face_and_hides_the_background():
    pytest.importorskip("mediapipe")
    from emotrace.faces.detectors import create_detector
    from emotrace.faces.mask import MeshMasker
    from tests.helpers import astronaut_frames

    img = astronaut_frames(1, size=(300, 300))[0]
    d = create_detector("blazeface").detect(img)
    crops = FaceAligner(48).crops(img, d.boxes, d.keypoints)
    masked = MeshMasker()(crops)
    assert masked.shape == crops.shape
    assert masked[0, 0, 0] == 0 and masked[0, 0, -1] == 0  # corners are background
    assert (masked[0, 20:30, 20:30] == crops[0, 20:30, 20:30]).all()  # eyes-to-nose region is kept


def test_mesh_keypoints_are_the_irises_left_to_right_the_nose_tip_and_the_mouth_centre():
    from emotrace.faces.align import MESH_IRISES, MESH_LIPS, MESH_NOSE_TIP, mesh_keypoints

    mesh = np.zeros((478, 3), np.float32)
    mesh[MESH_IRISES[0], :2], mesh[MESH_IRISES[1], :2] = (70, 40), (30, 41)  # image-right one listed first
    mesh[MESH_NOSE_TIP, :2] = (50, 60)
    mesh[MESH_LIPS[0], :2], mesh[MESH_LIPS[1], :2] = (50, 74), (50, 78)
    np.testing.assert_allclose(mesh_keypoints(mesh), [[30, 41], [70, 40], [50, 60], [50, 76]])


def test_mesh_alignment_is_opt_in_and_moves_only_the_crop():
    """With --mesh-align and signals, a photo's crop is aligned from its mesh: other probabilities, same rows."""
    from emotrace.api import analyze
    from emotrace.sample import astronaut_bgr

    img = astronaut_bgr()
    plain = analyze(img, signals=1, person_distance=0)
    mesh = analyze(img, signals=1, person_distance=0, mesh_align=True)
    assert len(plain) == len(mesh) == 1 and plain["signals"].iloc[0] == "measured"
    assert plain[["x1", "y1", "x2", "y2"]].equals(mesh[["x1", "y1", "x2", "y2"]])
    assert not np.allclose(plain["frame_happy"], mesh["frame_happy"])
    off = analyze(img, person_distance=0, mesh_align=True)  # no signals: nothing to align from
    np.testing.assert_allclose(off["frame_happy"], plain["frame_happy"])
