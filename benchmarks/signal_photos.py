"""Photos through the pipeline a user runs with face signals on (`Analyzer(signals=1).stills`), the biggest face of
each photo taken as its answer; shared by signals_sanity.py and signals_fusion.py.

Per photo: the frame model's probabilities (calibrated, as the product gives them), the 52 blendshapes, yaw / pitch
/ roll, the signal status (`measured`, `no_fit`, `too_small`; `no_face` where the pipeline found no face at all)
and whether the face was taken as a crop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from emotrace.faces.signal_names import BLENDSHAPES


def photo_signals(paths: list[str], transform: Callable[[np.ndarray], np.ndarray] | None = None,
                  size: int | None = None, progress: bool = True) -> dict[str, np.ndarray]:
    """Signals and frame-model probabilities of the biggest face of each photo (`transform` applied to the BGR
    image first, e.g. a mirror; `size`: the photo resized so its longer side is this many pixels)."""
    import cv2

    from emotrace.pipeline import Analyzer
    from emotrace.sources.images import read_image
    from emotrace.types import Frame

    n = len(paths)
    analyzer = Analyzer(temporal="ema", signals=1)
    classes = list(analyzer.classes)
    k = len(classes)
    out = {"probs": np.full((n, k), np.nan, np.float32),
           "blendshapes": np.full((n, len(BLENDSHAPES)), np.nan, np.float32),
           "pose": np.full((n, 3), np.nan, np.float32), "status": np.full(n, "no_face", dtype="<U12"),
           "crop": np.zeros(n, bool), "face_px": np.zeros(n, np.float32)}

    def frames() -> Iterator[Frame]:
        for i, p in enumerate(paths):
            img = read_image(Path(p))
            if img.ndim == 2:
                img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
            if size:
                s = size / max(img.shape[:2])
                img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)),
                                 interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)
            if transform is not None:
                img = np.ascontiguousarray(transform(img))
            yield Frame(index=i, timestamp=0.0, image=img, source=p)

    try:
        for k, res in enumerate(analyzer.stills(frames())):
            f, i = res.faces, res.frame.index
            if progress and k % 200 == 0:
                print(f"    {k}/{n} photos", flush=True)
            if not len(f):
                continue
            area = (f.boxes[:, 2] - f.boxes[:, 0]) * (f.boxes[:, 3] - f.boxes[:, 1])
            j = int(np.argmax(area))
            out["probs"][i] = f.frame_probs[j]
            out["crop"][i] = bool(f.crop[j]) if f.crop is not None else False
            out["face_px"][i] = float(np.sqrt(area[j]))
            sig = f.signals
            out["status"][i] = str(sig.status[j])
            out["blendshapes"][i] = sig.blendshapes[j]
            out["pose"][i] = sig.pose[j]
    finally:
        analyzer.close()
    out["classes"] = np.array(classes)
    return out


def mirror(img: np.ndarray) -> np.ndarray:
    """The image flipped left to right."""
    return img[:, ::-1]
