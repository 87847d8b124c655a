"""Every reader on a fixture in its real on-disk format, and the shared FER+ and CK+48 data where present."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pytest

from emotrace.data.readers import detect_format, open_dataset
from emotrace.data.schema import CONTEMPT_CLASSES
from emotrace.errors import EmotraceError
from emotrace.labels import EMOTIONS, FERPLUS_VOTE_COLUMNS
from tests.data import fixtures
from tests.helpers import CKPLUS, FERPLUS, needs_ferplus

needs_ckplus = pytest.mark.skipif(not CKPLUS.is_dir(), reason=f"CK+48 data not found at {CKPLUS}")


def _labels(ds):
    return Counter(ds.classes[s.label] for s in ds.samples)


def test_fer2013_csv(tmp_path):
    path = fixtures.write_fer2013_csv(tmp_path / "fer2013.csv")
    assert detect_format(path) == "fer2013-csv"
    ds = open_dataset(path)
    assert [s.split for s in ds.samples] == ["train", "train", "valid", "test"]
    assert [ds.classes[s.label] for s in ds.samples] == ["angry", "happy", "neutral", "surprise"]
    assert ds.samples[0].media.load().shape == (1, 48, 48, 3)
    assert ds.skipped_summary() == {"unknown label": 1, "corrupt pixels": 1}


def test_ckplus_original(tmp_path):
    root = fixtures.write_ckplus_original(tmp_path / "ck")
    assert detect_format(root) == "ckplus"
    ds = open_dataset(root)
    assert [s.id for s in ds.samples] == ["S005/001", "S010/002", "S011/002"]  # S010/003 has no emotion file
    assert _labels(ds) == {"disgust": 1, "happy": 1, "contempt": 1}
    seq = ds.samples[1]
    assert seq.media.kind == "sequence" and len(seq.media.paths) == 7
    assert [p.name for p in seq.media.paths][:2] == ["S010_002_00000001.png", "S010_002_00000002.png"]
    assert seq.frame_labels.tolist() == [6, -1, -1, -1, 3, 3, 3]  # neutral onset ... apex happy
    assert ds.skipped_summary() == {"unknown label": 1}
    no_contempt = open_dataset(root, include_contempt=False)
    assert no_contempt.classes == EMOTIONS and len(no_contempt) == 2
    assert no_contempt.skipped_summary() == {"unknown label": 1, "contempt excluded": 1}


def test_ck48_layout_with_bad_folders(tmp_path):
    root = fixtures.write_ck48(tmp_path / "ckplus")
    assert detect_format(root) == "ckplus48"
    ds = open_dataset(root)
    assert {s.id: ds.classes[s.label] for s in ds.samples} == {"S020_001": "happy", "S020_002": "angry",
                                                              "S021_004": "happy"}
    first = next(s for s in ds.samples if s.id == "S020_001")
    assert len(first.media.paths) == 4 and first.frame_labels.tolist() == [6, 3, 3, 3]
    other = next(s for s in ds.samples if s.id == "S021_004")
    assert len(other.media.paths) == 3  # no neutral first frame for it
    assert ds.skipped_summary() == {"empty folder": 1, "unknown label": 3}


def test_jaffe(tmp_path):
    root = fixtures.write_jaffe(tmp_path / "jaffe")
    assert detect_format(root) == "jaffe"
    ds = open_dataset(root)
    assert {s.id: (s.subject, ds.classes[s.label]) for s in ds.samples} == {
        "KA.AN1.39": ("KA", "angry"), "KA.HA2.30": ("KA", "happy"), "YM.NE1.49": ("YM", "neutral"),
        "YM.SU3.61": ("YM", "surprise")}
    assert ds.skipped_summary() == {"unknown label": 1, "corrupt or unreadable image": 1,
                                    "unrecognised file name": 1}


def test_ravdess(tmp_path):
    root = fixtures.write_ravdess(tmp_path / "ravdess")
    assert detect_format(root) == "ravdess"
    ds = open_dataset(root)
    got = {s.id: (s.subject, ds.classes[s.label]) for s in ds.samples}
    assert got == {"01-01-03-01-01-01-01": ("01", "happy"), "02-01-08-02-02-01-01": ("01", "surprise"),
                   "01-02-05-02-01-01-02": ("02", "angry")}
    s = next(x for x in ds.samples if x.id == "01-02-05-02-01-01-02")
    assert s.meta["channel"] == "song" and s.meta["intensity"] == "strong" and s.meta["sex"] == "female"
    assert s.media.load().shape == (8, 240, 320, 3)
    assert ds.skipped_summary() == {"calm excluded": 1, "audio only": 1, "corrupt or unreadable video": 1}
    seed1 = open_dataset(root, drop_surprise=True)
    assert len(seed1) == 2 and seed1.skipped_summary()["surprise excluded"] == 1
    merged = open_dataset(root, calm_as_neutral=True)
    assert _labels(merged)["neutral"] == 1


def test_cremad(tmp_path):
    root = fixtures.write_cremad(tmp_path / "crema")
    assert detect_format(root) == "cremad"
    ds = open_dataset(root)
    assert {s.id: ds.classes[s.label] for s in ds.samples} == {"1001_DFA_ANG_XX": "angry",
                                                              "1001_IEO_HAP_HI": "happy",
                                                              "1002_TIE_NEU_XX": "neutral"}
    s = ds.samples[0]
    assert s.subject == "1001" and s.meta["Sex"] == "Male" and s.meta["level"] == "XX"
    assert s.media.load().shape[0] == 8  # the .flv decodes
    assert ds.skipped_summary() == {"unknown label": 1, "corrupt or unreadable video": 1}


def test_affwild2(tmp_path):
    root = fixtures.write_affwild2(tmp_path / "aff")
    assert detect_format(root) == "affwild2"
    ds = open_dataset(root)
    v1, v2 = ds.samples
    assert (v1.id, v1.split, v2.id, v2.split) == ("video1", "train", "video2_left", "valid")
    assert v1.meta["frame_index"].tolist() == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12]  # image 4 missing
    assert v1.valence_arousal.shape == (11, 2)
    assert np.isnan(v1.valence_arousal[5]).all()  # frame 7 was -5
    assert v1.valence_arousal[0] == pytest.approx([0.1, -0.05])
    assert v1.frame_labels is None and v2.valence_arousal is None
    names = [ds.classes[x] if x >= 0 else None for x in v2.frame_labels]
    assert names == ["neutral", "happy", None, None, "surprise", "angry"]  # -1 and Other are invalid
    assert ds.skipped_summary() == {"missing file": 1}


def test_folders_kaggle_layout(tmp_path):
    root = fixtures.write_folders(tmp_path / "fer2013")
    assert detect_format(root) == "folders"
    ds = open_dataset(root)
    assert Counter((s.split, ds.classes[s.label]) for s in ds.samples) == {
        ("train", "happy"): 3, ("train", "angry"): 2, ("test", "sad"): 2}
    assert ds.skipped_summary() == {"unknown label": 1, "empty folder": 1, "corrupt or unreadable image": 1}


def test_manifest(tmp_path):
    path = fixtures.write_manifest(tmp_path / "m")
    assert detect_format(path) == "manifest"
    ds = open_dataset(path)
    kinds = [(s.id, s.media.kind, s.label if s.label < 0 else ds.classes[s.label]) for s in ds.samples]
    assert kinds == [("a.png", "image", "happy"), ("clip.mp4", "sequence", "surprise"), ("frames", "sequence", -1)]
    assert ds.samples[2].valence_arousal.tolist() == pytest.approx([-0.2, 0.1])
    assert ds.samples[2].media.load().shape == (3, 64, 64, 3)
    assert ds.skipped_summary() == {"unknown label": 1, "missing file": 1}


def test_unknown_layout_and_bad_options(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmotraceError, match="not a dataset layout"):
        open_dataset(tmp_path / "empty")
    with pytest.raises(EmotraceError, match="no such dataset path"):
        open_dataset(tmp_path / "missing")
    root = fixtures.write_jaffe(tmp_path / "jaffe")
    with pytest.raises(EmotraceError, match="label_mode do not apply to jaffe"):
        open_dataset(root, label_mode="soft")


def _independent_majority_counts(split_dir):
    """Straight from label.csv: drop single votes, top column needs > half the rest (FERPlus reference code)."""
    counts: Counter[str] = Counter()
    with open(split_dir / "label.csv", newline="") as fh:
        for row in csv.reader(fh):
            votes = [float(v) for v in row[2:]]
            votes = [v if v > 1 else 0 for v in votes]
            top = max(votes)
            if top > 0.5 * sum(votes):
                counts[FERPLUS_VOTE_COLUMNS[votes.index(top)]] += 1
    return counts


@needs_ferplus
def test_ferplus_shared_counts_and_majority():
    from emotrace.data.readers.ferplus import read_split

    train, valid = read_split(FERPLUS, "train"), read_split(FERPLUS, "valid")
    assert (len(train), len(valid)) == (28558, 3579)
    assert train.votes.shape == (28558, 10)
    with open(FERPLUS / "FER2013Train" / "label.csv", newline="") as fh:
        first = next(csv.reader(fh))
    assert train.names[0] == first[0] and train.votes[0].tolist() == [float(x) for x in first[2:]]

    ds = open_dataset(FERPLUS, label_mode="majority", include_contempt=True)
    for split, folder in (("train", "FER2013Train"), ("valid", "FER2013Valid")):
        expected = _independent_majority_counts(FERPLUS / folder)
        got = Counter(ds.classes[s.label] for s in ds.samples if s.split == split)
        names = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
                 "anger": "angry", "disgust": "disgust", "fear": "fear", "contempt": "contempt"}
        assert got == {names[k]: v for k, v in expected.items() if k in names}
    assert ds.classes == CONTEMPT_CLASSES
    assert all(s.va_proxy for s in ds.samples[:100])


@needs_ferplus
def test_ferplus_modes():
    soft = open_dataset(FERPLUS, label_mode="soft", splits=("valid",))
    s = soft.samples[0]
    assert s.soft_label.sum() == pytest.approx(1.0) and s.label == int(np.argmax(s.soft_label))
    orig = open_dataset(FERPLUS, label_mode="fer2013", splits=("valid",))
    assert len(orig) == 3579  # every valid image has its original label
    plural = open_dataset(FERPLUS, label_mode="plurality", include_contempt=True, splits=("valid",))
    assert len(plural) + len(plural.skipped) == 3579
    assert plural.skipped_summary() == {"unknown or not a face (votes)": len(plural.skipped)}


@needs_ckplus
def test_ck48_shared_sequences_and_subjects():
    ds = open_dataset(CKPLUS)
    assert len(ds) == 327
    assert len({s.subject for s in ds.samples}) == 118
    assert not ds.skipped
    assert all(s.media.kind == "sequence" and len(s.media.paths) in (3, 4) for s in ds.samples)
