"""Aligned crops that look like the frame model's training images.

The template is where the eyes, nose and mouth sit in FER2013's 48x48 faces: the medians of BlazeFace keypoints run
over 1,500 FER+ training images (upscaled and padded so the detector sees whole faces); `docs/design.md` gives the
command. Mapping each detected face onto it with a similarity transform makes video crops match training crops in
scale, position and roll.
"""

from __future__ import annotations

import cv2
import numpy as np

# (x, y) in a 48x48 crop: image-left eye, image-right eye, nose tip, mouth centre.
FER_TEMPLATE_48 = np.array([[15.21, 19.18], [32.76, 19.06], [24.17, 28.91], [24.22, 37.23]], np.float32)
MESH_IRISES, MESH_NOSE_TIP, MESH_LIPS = (468, 473), 1, (13, 14)  # the Face Landmarker's 478-point mesh


def mesh_keypoints(landmarks: np.ndarray) -> np.ndarray:
    """The template's four points from a face mesh (478, 3) in frame pixels: the iris centres (image-left first),
    the nose tip and the mouth centre (between the inner lips). With `--mesh-align`, these align the crop: on the
    held-out TFEID, CK+ and SFEW photos 0.5-2.9 points above the detector's keypoints, on FER+ Valid 1.5 below
    (docs/signals.md, `benchmarks/signals_alignment.py`), so not the default."""
    eyes = landmarks[list(MESH_IRISES), :2]
    eyes = eyes[np.argsort(eyes[:, 0])]
    return np.vstack([eyes, landmarks[MESH_NOSE_TIP, :2], landmarks[list(MESH_LIPS), :2].mean(0)]).astype(np.float32)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) taking src points to dst; 2x3 matrix."""
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    s, d = src - src_mean, dst - dst_mean
    var = (s**2).sum()
    if var < 1e-9:
        raise ValueError("degenerate keypoints")
    a = (s[:, 0] * d[:, 0] + s[:, 1] * d[:, 1]).sum() / var
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / var
    m = np.array([[a, -b, 0.0], [b, a, 0.0]], np.float64)
    m[:, 2] = dst_mean - m[:, :2] @ src_mean
    return m


class FaceAligner:
    """Warps faces to `size` x `size` gray crops on the FER template; falls back to the box when no keypoints."""

    def __init__(self, size: int = 48, gray: bool = True) -> None:
        self.size = size
        self.gray = gray
        self.template = FER_TEMPLATE_48 * (size / 48.0)

    def matrix(self, box: np.ndarray, keypoints: np.ndarray | None) -> np.ndarray:
        """The 2x3 warp from image to crop for one face."""
        if keypoints is not None and len(keypoints) >= 4:
            try:
                return similarity_transform(keypoints[:4].astype(np.float64), self.template.astype(np.float64))
            except ValueError:
                pass
        # Box only: FER faces fill about 85% of the crop width (median BlazeFace box on FER: 3.8..44.4 of 48).
        x1, y1, x2, y2 = box
        side = max(x2 - x1, y2 - y1) / 0.85
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - 0.04 * side
        scale = self.size / side
        return np.array([[scale, 0, self.size / 2 - scale * cx], [0, scale, self.size / 2 - scale * cy]])

    def crop(self, image: np.ndarray, box: np.ndarray, keypoints: np.ndarray | None) -> np.ndarray:
        """One aligned crop (size x size, uint8; gray unless configured otherwise)."""
        src = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if self.gray and image.ndim == 3 else image
        return cv2.warpAffine(src, self.matrix(box, keypoints), (self.size, self.size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)

    def crops(self, image: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray | None) -> np.ndarray:
        """Aligned crops for all faces of a frame: (N, size, size) uint8."""
        src = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if self.gray and image.ndim == 3 else image
        out = np.zeros((len(boxes), self.size, self.size) + (() if self.gray else (3,)), np.uint8)
        for i in range(len(boxes)):
            m = self.matrix(boxes[i], None if keypoints is None else keypoints[i])
            out[i] = cv2.warpAffine(src, m, (self.size, self.size), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
        return out
