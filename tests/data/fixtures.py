"""Tiny datasets written in each dataset's exact on-disk format (real images, real video files, real annotation
files), for the datasets that are not on this machine and for the bad-data cases of those that are."""

from __future__ import annotations

import wave
from pathlib import Path

import cv2
import numpy as np

from tests.helpers import astronaut_frames, write_video


def face(size: int = 96, shift: int = 0) -> np.ndarray:
    """A real face (the public-domain astronaut photo), BGR."""
    return cv2.resize(astronaut_frames(1 + shift, (240, 240))[shift][20:220, 20:220], (size, size))


def write_fer2013_csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = ["emotion,pixels,Usage"]
    for label, usage in [(0, "Training"), (3, "Training"), (6, "PublicTest"), (5, "PrivateTest")]:
        rows.append(f"{label},{' '.join(map(str, rng.integers(0, 256, 48 * 48)))},{usage}")
    rows.append(f"9,{' '.join(['1'] * 2304)},Training")  # unknown label
    rows.append("2,1 2 3,Training")  # corrupt pixel string
    path.write_text("\n".join(rows) + "\n")
    return path


def write_ckplus_original(root: Path) -> Path:
    base = root / "cohn-kanade-images"
    seqs = {("S005", "001"): 3.0, ("S010", "002"): 5.0, ("S010", "003"): None, ("S011", "001"): 9.0,
            ("S011", "002"): 2.0}
    for (subj, seq), code in seqs.items():
        folder = base / subj / seq
        folder.mkdir(parents=True)
        for k in range(1, 6 + int(seq)):
            cv2.imwrite(str(folder / f"{subj}_{seq}_{k:08d}.png"), cv2.cvtColor(face(64, k % 3), cv2.COLOR_BGR2GRAY))
        if code is not None:
            emo = root / "Emotion" / subj / seq
            emo.mkdir(parents=True)
            (emo / f"{subj}_{seq}_{5 + int(seq):08d}_emotion.txt").write_text(f"   {code:.7e}\n")
    return root


def write_ck48(root: Path) -> Path:
    ck = root / "CK+48"
    for emotion, seqs in {"happy": [("S020", "001"), ("S021", "004")], "anger": [("S020", "002")],
                          "bored": [("S022", "001")]}.items():
        (ck / emotion).mkdir(parents=True)
        for subj, seq in seqs:
            for k in (10, 11, 12):
                cv2.imwrite(str(ck / emotion / f"{subj}_{seq}_{k:08d}.png"), face(48))
    (ck / "fear").mkdir()  # empty folder
    (root / "neutral").mkdir()
    cv2.imwrite(str(root / "neutral" / "S020_001_00000001.png"), face(48))
    return root


def write_jaffe(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in ("KA.AN1.39.tiff", "KA.HA2.30.tiff", "YM.NE1.49.tiff", "YM.SU3.61.tiff"):
        cv2.imwrite(str(root / name), cv2.cvtColor(face(128), cv2.COLOR_BGR2GRAY))
    (root / "KL.XX1.40.tiff").write_bytes(cv2.imencode(".tiff", face(32))[1].tobytes())  # unknown code
    (root / "NM.SA1.95.tiff").write_bytes(b"II*\x00 not really a tiff")  # corrupt
    (root / "README.tiff").write_bytes(cv2.imencode(".tiff", face(32))[1].tobytes())  # name not in the scheme
    return root


def _clip(n: int = 8) -> list[np.ndarray]:
    return astronaut_frames(n, (320, 240))


def _wav(path: Path) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros(800, np.int16).tobytes())


def write_ravdess(root: Path) -> Path:
    a1, a2 = root / "Actor_01", root / "Actor_02"
    a1.mkdir(parents=True)
    a2.mkdir(parents=True)
    write_video(a1 / "01-01-03-01-01-01-01.mp4", _clip())  # happy, audio-video
    write_video(a1 / "02-01-08-02-02-01-01.mp4", _clip())  # surprised, video-only, strong
    write_video(a1 / "02-01-02-01-01-02-01.mp4", _clip())  # calm
    _wav(a1 / "03-01-05-01-01-01-01.wav")  # audio only
    write_video(a2 / "01-02-05-02-01-01-02.mp4", _clip())  # angry, song
    (a2 / "01-01-04-01-01-01-02.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")  # corrupt
    return root


def write_cremad(root: Path) -> Path:
    vf = root / "VideoFlash"
    vf.mkdir(parents=True)
    flv = ["-c:v", "flv1", "-q:v", "5"]
    write_video(vf / "1001_DFA_ANG_XX.flv", _clip(), codec=flv)
    write_video(vf / "1001_IEO_HAP_HI.flv", _clip(), codec=flv)
    write_video(vf / "1002_TIE_NEU_XX.flv", _clip(), codec=flv)
    write_video(vf / "1002_TIE_BOR_XX.flv", _clip(), codec=flv)  # unknown emotion code
    (vf / "1003_DFA_SAD_LO.flv").write_bytes(b"FLV\x01\x05 broken")  # corrupt
    (root / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n1002,21,Female,Caucasian,Not Hispanic\n")
    return root


def write_affwild2(root: Path) -> Path:
    frames = root / "cropped_aligned"
    for video, n, missing in (("video1", 12, {4}), ("video2_left", 6, set())):
        (frames / video).mkdir(parents=True)
        for k in range(1, n + 1):
            if k not in missing:
                cv2.imwrite(str(frames / video / f"{k:05d}.jpg"), face(112, k % 3))
    va = root / "Annotations" / "VA_Set" / "Train_Set"
    va.mkdir(parents=True)
    lines = ["valence,arousal"] + [f"{0.1 * k:.3f},{-0.05 * k:.3f}" for k in range(1, 13)]
    lines[7] = "-5,-5"  # frame 7 invalid
    (va / "video1.txt").write_text("\n".join(lines) + "\n")
    ex = root / "Annotations" / "EXPR_Set" / "Validation_Set"
    ex.mkdir(parents=True)
    (ex / "video2_left.txt").write_text("Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n"
                                        + "\n".join(["0", "4", "-1", "7", "6", "1"]) + "\n")
    (ex / "video_missing.txt").write_text("Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n0\n")
    return root


def write_folders(root: Path) -> Path:
    for split, cls, n in (("train", "happy", 3), ("train", "angry", 2), ("test", "sad", 2), ("train", "bored", 1)):
        (root / split / cls).mkdir(parents=True)
        for k in range(n):
            cv2.imwrite(str(root / split / cls / f"im{k}.jpg"), face(48, k))
    (root / "train" / "fear").mkdir()  # empty
    (root / "train" / "happy" / "broken.jpg").write_bytes(b"\xff\xd8 nope")
    return root


def write_manifest(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / "a.png"), face(64))
    write_video(root / "clip.mp4", _clip())
    (root / "frames").mkdir()
    for k in range(3):
        cv2.imwrite(str(root / "frames" / f"f{k}.png"), face(64, k))
    (root / "manifest.csv").write_text(
        "path,label,subject,split,valence,arousal\n"
        "a.png,happiness,p1,train,,\n"
        "clip.mp4,surprised,p2,test,0.3,0.6\n"
        "frames,,p3,valid,-0.2,0.1\n"
        "a.png,bored,p1,train,,\n"
        "gone.png,sad,p4,train,,\n")
    return root / "manifest.csv"


def ferplus_subset(src: Path, dst: Path, rows: dict[str, int]) -> Path:
    """The first `rows[split]` images of each FER+ split folder (e.g. {"FER2013Train": 512}) in the FER+ layout,
    images linked, `label.csv` and `fer2013_label.csv` cut to them. Why: a test of a training or evaluation *path*
    reads the same files in the same layout, without paying for every image of the split."""
    import csv

    for folder, n in rows.items():
        s, d = src / folder, dst / folder
        d.mkdir(parents=True, exist_ok=True)
        lines = (s / "label.csv").read_text().splitlines()[:n]
        names = {line.split(",", 1)[0] for line in lines}
        (d / "label.csv").write_text("\n".join(lines) + "\n")
        orig = s / "fer2013_label.csv"
        if orig.is_file():
            with open(orig, newline="") as fh:
                reader = csv.reader(fh)
                head = next(reader)
                kept = [r for r in reader if r and r[0] in names]
            with open(d / "fer2013_label.csv", "w", newline="") as fh:
                csv.writer(fh).writerows([head, *kept])
        for name in names:
            (d / name).symlink_to(s / name)
    return dst


def ckplus_subset(src: Path, dst: Path, subjects: int) -> Path:
    """CK+48 (and `neutral/`) of the first `subjects` subjects, images linked: fewer people, the same layout, every
    emotion folder kept (empty if none of them shows it)."""
    keep = sorted({p.name.split("_")[0] for p in (src / "CK+48").glob("*/S*.png")})[:subjects]
    for folder in ("CK+48", "neutral"):
        for p in sorted((src / folder).rglob("S*.png")):
            if p.name.split("_")[0] in keep:
                out = dst / p.relative_to(src)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.symlink_to(p)
        for d in (src / folder).iterdir():
            if d.is_dir():
                (dst / folder / d.name).mkdir(parents=True, exist_ok=True)
    return dst


def every_nth_subset(src: Path, dst: Path, n: int) -> Path:
    """Every `n`th image of each folder under `src` (sorted by name), linked at the same relative path, with the
    folder's other files (READMEs, lists): the same layout and classes with a fraction of the photos."""
    for folder in sorted({p.parent for p in src.rglob("*") if p.is_file()}):
        files = sorted(p for p in folder.iterdir() if p.is_file())
        images = [p for p in files if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")]
        keep = set(images[::n]) | (set(files) - set(images))
        for p in sorted(keep):
            out = dst / p.relative_to(src)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.symlink_to(p)
    return dst
