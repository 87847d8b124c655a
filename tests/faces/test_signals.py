"""Face signals on real faces: the shipped landmarker loads only with its checksum, reads the tracked faces every N
frames of a track, says why a face has none, and never shifts a column."""

from __future__ import annotations

import numpy as np
import pytest

import emotrace
from emotrace.cli import main
from emotrace.errors import EmotraceError
from emotrace.faces import signals as sig
from emotrace.faces.signal_names import BLENDSHAPES
from emotrace.results import blendshape_fields
from emotrace.sample import astronaut_bgr
from emotrace.types import Detections
from tests.helpers import astronaut_frames

pytest.importorskip("mediapipe")


@pytest.fixture(scope="module")
def reader():
    r = sig.SignalReader(every=1)
    yield r
    r.close()


def _face_box(image: np.ndarray) -> np.ndarray:
    from emotrace.faces.detectors import create_detector

    found = create_detector("auto").detect(image)
    assert len(found) >= 1
    return found.boxes[:1]


def test_the_shipped_bundle_is_checked_before_it_loads(tmp_path):
    assert sig.task_path().is_file()
    fake = tmp_path / "face_landmarker.task"
    fake.write_bytes(b"not the model")
    with pytest.raises(EmotraceError, match="not the Face Landmarker emotrace ships"):
        sig._check(str(fake))


def test_a_face_gets_52_blendshapes_a_pose_and_478_landmarks_inside_its_box(reader):
    img = astronaut_bgr()
    box = _face_box(img)
    out = reader.read(img, Detections(boxes=box, scores=np.ones(1, np.float32)), still=True)
    assert out.status.tolist() == ["measured"]
    assert out.blendshapes.shape == (1, len(BLENDSHAPES)) and ((out.blendshapes >= 0) & (out.blendshapes <= 1)).all()
    assert np.isfinite(out.pose).all() and (np.abs(out.pose) < 90).all()
    x1, y1, x2, y2 = box[0]
    pts = out.landmarks[0]
    inside = (pts[:, 0] > x1 - 0.3 * (x2 - x1)) & (pts[:, 0] < x2 + 0.3 * (x2 - x1)) & (pts[:, 1] > y1 - 0.5 * (
        y2 - y1)) & (pts[:, 1] < y2 + 0.3 * (y2 - y1))
    assert inside.mean() > 0.95  # in frame pixels, on the face the box holds


def test_a_mirrored_face_turns_the_other_way(reader):
    img = astronaut_bgr()
    one = reader.read(img, Detections(boxes=_face_box(img), scores=np.ones(1, np.float32)), still=True)
    flipped = np.ascontiguousarray(img[:, ::-1])
    two = reader.read(flipped, Detections(boxes=_face_box(flipped), scores=np.ones(1, np.float32)), still=True)
    yaw, pitch, roll = one.pose[0]
    assert two.pose[0][0] == pytest.approx(-yaw, abs=3.0)
    assert two.pose[0][1] == pytest.approx(pitch, abs=3.0)
    assert two.pose[0][2] == pytest.approx(-roll, abs=3.0)


def test_a_face_turned_counter_clockwise_in_the_image_has_a_positive_roll(reader):
    import cv2

    img = astronaut_bgr()
    box = _face_box(img)
    centre = (float(box[0, 0] + box[0, 2]) / 2, float(box[0, 1] + box[0, 3]) / 2)
    turned = cv2.warpAffine(img, cv2.getRotationMatrix2D(centre, 20, 1.0), img.shape[1::-1])  # 20 degrees CCW
    before = reader.read(img, Detections(boxes=box, scores=np.ones(1, np.float32)), still=True).pose[0]
    after = reader.read(turned, Detections(boxes=box, scores=np.ones(1, np.float32)), still=True).pose[0]
    assert after[2] - before[2] == pytest.approx(20, abs=5)


def test_faces_without_signals_say_why(reader):
    img = astronaut_bgr()
    boxes = np.array([[5, 5, 20, 20], [0, 0, 120, 120]], np.float32)  # too small; no face in the top-left corner
    blank = np.full_like(img, 128)
    out = reader.read(blank, Detections(boxes=boxes, scores=np.ones(2, np.float32)), still=True)
    assert out.status.tolist() == ["too_small", "no_fit"]
    assert np.isnan(out.blendshapes).all() and np.isnan(out.pose).all()


def test_every_n_frames_of_each_track():
    r = sig.SignalReader(every=3)
    try:
        img = astronaut_bgr()
        faces = Detections(boxes=_face_box(img), scores=np.ones(1, np.float32), track_id=np.array([7]))
        seen = [r.read(img, faces).status[0] for _ in range(5)]
        assert seen == ["measured", "skipped", "skipped", "measured", "skipped"]
        r.drop([7])  # a track that ends starts again at its first frame (ids are never reused, but state goes)
        assert r.read(img, faces).status[0] == "measured"
    finally:
        r.close()
    with pytest.raises(EmotraceError, match="1 or more"):
        sig.SignalReader(every=0)


def test_signal_columns_only_when_asked_and_in_one_place():
    frames = astronaut_frames(4)
    plain = emotrace.analyze(frames, detect_every=1)
    assert not any(c.startswith("bs_") or c in ("yaw", "signals") for c in plain.columns)
    df = emotrace.analyze(frames, detect_every=1, signals=2)
    extra = [c for c in df.columns if c not in plain.columns]
    assert extra == ["signals", "signals_quality", "yaw", "pitch", "roll", *blendshape_fields()]
    assert list(df.columns[:len(plain.columns)]) == list(plain.columns)  # nothing before them moved
    assert list(plain.columns[-2:]) == ["person_id", "person_basis"]  # person linking on (the default)
    assert df["signals"].tolist() == ["measured", "skipped", "measured", "skipped"]
    assert df.loc[df["signals"] == "skipped", "bs_jawOpen"].isna().all()
    assert df.loc[df["signals"] == "measured", "bs_jawOpen"].notna().all()


def test_the_landmarks_output_needs_signals(tmp_path, capsys):
    import cv2

    photo = tmp_path / "face.png"
    cv2.imwrite(str(photo), astronaut_bgr())
    assert main(["-q", "analyze", str(photo), "--outputs", "landmarks", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "needs face signals" in err and "Traceback" not in err
    assert not (tmp_path / "a" / "landmarks.parquet").exists()
    assert main(["-q", "analyze", str(photo), "--signals", "1", "--outputs", "landmarks,csv",
                 "--out", str(tmp_path / "b")]) == 0
    import pandas as pd

    lm = pd.read_parquet(tmp_path / "b" / "landmarks.parquet")
    assert lm.shape == (1, 4 + 478 * 3) and lm["track_id"].tolist() == [1]
    table = pd.read_csv(tmp_path / "b" / "emotions.csv")
    assert table["signals"].tolist() == ["measured"]
