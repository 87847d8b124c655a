"""Photos that already are face crops get a face (padded retry, whole-image fallback), marked as crops; scenes
without a face do not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotrace.faces.align import FaceAligner
from emotrace.faces.detectors import create_detector
from emotrace.faces.photo import CROP_MAX_SIDE, PhotoFaceFinder, whole_image_face
from tests.helpers import MEDIA, needs_shared


def test_whole_image_face_aligns_to_a_plain_resize():
    rng = np.random.default_rng(0)
    img = cv2.resize(rng.integers(0, 255, (12, 12, 3), dtype=np.uint8), (96, 96), interpolation=cv2.INTER_LINEAR)
    face = whole_image_face(img)
    crop = FaceAligner(48).crop(img, face.boxes[0], face.keypoints[0])
    resized = cv2.cvtColor(cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    assert np.abs(crop.astype(int) - resized.astype(int)).mean() < 6


def test_blank_photos_small_are_crops_large_are_not():
    finder = PhotoFaceFinder(create_detector("haar"), detector_name="haar")
    small = np.full((CROP_MAX_SIDE, CROP_MAX_SIDE - 40, 3), 128, np.uint8)
    large = np.full((CROP_MAX_SIDE * 2, CROP_MAX_SIDE * 2, 3), 128, np.uint8)
    found = finder.find(small)
    assert len(found) == 1 and found.crop.tolist() == [True]
    assert len(finder.find(large)) == 0
    assumed = finder.find(large, assume_crop=True)  # the user says every photo is a face crop
    assert len(assumed) == 1 and assumed.crop.tolist() == [True]
    finder.close()


def _tight_crop() -> np.ndarray:
    """The face of single_face.jpg cut out tightly (forehead to chin), as face datasets ship them."""
    img = cv2.imread(str(MEDIA / "single_face.jpg"))
    det = create_detector("auto", min_score=0.7).detect(img)
    x1, y1, x2, y2 = det.boxes[int(np.argmax(det.scores))].astype(int)
    w = x2 - x1
    return img[max(0, y1 + w // 10):y2, max(0, x1 + w // 10):x2 - w // 10]


@needs_shared
def test_a_tight_face_crop_gets_a_face_and_a_prediction(tmp_path):
    import emotrace

    crop = _tight_crop()
    finder = PhotoFaceFinder(create_detector("auto", min_score=0.7))
    found = finder.find(crop)
    assert len(found) == 1
    cv2.imwrite(str(tmp_path / "crop.png"), crop)
    df = emotrace.analyze(tmp_path / "crop.png")
    assert len(df) == 1 and df["n_faces"].iloc[0] == 1 and df["label"].notna().all()
    assert df["crop"].iloc[0] == bool(found.crop[0])
    finder.close()


@needs_shared
def test_a_scene_photo_is_detected_as_usual_not_as_a_crop():
    import emotrace

    df = emotrace.analyze(str(MEDIA / "multi_face.jpg"))
    assert len(df) >= 3 and not df["crop"].any()


@pytest.mark.parametrize("assume", [False, True])
def test_analyze_marks_whole_image_crops(tmp_path, assume):
    import emotrace

    cv2.imwrite(str(tmp_path / "blank.png"), np.full((64, 64, 3), 100, np.uint8))  # no face, small: taken whole
    df = emotrace.analyze(tmp_path / "blank.png", assume_crop=assume)
    assert len(df) == 1 and bool(df["crop"].iloc[0]) and df["label"].notna().all()
