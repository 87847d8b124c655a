"""Face masks that hide the background around a face (the seed's OpenFace masking).

Crops are already aligned to the FER template, so the face outline sits at a known place: `oval_mask` is the
ellipse through the template's face contour (eyes at 40% / mouth at 78% of crop height). With `mesh`, MediaPipe
FaceMesh's face-oval landmarks are found on the crop itself, where mediapipe is installed.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from emotrace.errors import EmotraceError

# FaceMesh indices of the face oval (MediaPipe's FACEMESH_FACE_OVAL), in order around the face.
_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176,
         149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]


@lru_cache(maxsize=8)
def oval_mask(size: int) -> np.ndarray:
    """uint8 mask (size x size) of the template face: 1 inside, 0 outside."""
    m = np.zeros((size, size), np.uint8)
    center = (int(round(size * 0.5)), int(round(size * 0.55)))
    axes = (int(round(size * 0.44)), int(round(size * 0.52)))
    cv2.ellipse(m, center, axes, 0, 0, 360, 1, -1)
    return m


class MeshMasker:
    """FaceMesh face-oval polygon per crop; falls back to the template oval where the mesh finds no face."""

    def __init__(self) -> None:
        try:
            from mediapipe.python.solutions import face_mesh
        except Exception:
            raise EmotraceError("mask 'mesh' needs mediapipe==0.10.21; use mask 'oval'") from None
        self._mesh = face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1)

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        out = crops.copy()
        for i, crop in enumerate(crops):
            size = crop.shape[0]
            big = cv2.resize(crop, (192, 192), interpolation=cv2.INTER_LINEAR)
            rgb = cv2.cvtColor(big, cv2.COLOR_GRAY2RGB) if big.ndim == 2 else cv2.cvtColor(big, cv2.COLOR_BGR2RGB)
            res = self._mesh.process(rgb)
            if res.multi_face_landmarks:
                lm = res.multi_face_landmarks[0].landmark
                poly = np.array([[lm[j].x * size, lm[j].y * size] for j in _OVAL], np.int32)
                m = np.zeros((size, size), np.uint8)
                cv2.fillPoly(m, [poly], 1)
            else:
                m = oval_mask(size)
            out[i] = crop * (m if crop.ndim == 2 else m[:, :, None])
        return out


def apply_oval(crops: np.ndarray) -> np.ndarray:
    """Zero everything outside the template oval."""
    if len(crops) == 0:
        return crops
    m = oval_mask(crops.shape[1])
    return crops * (m if crops.ndim == 3 else m[:, :, None])
