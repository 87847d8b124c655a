"""Which input the shipped FaceRes descriptor wants: ROC AUC of same-person pairs on 120 TFEID photos for each colour
order, scaling and crop size, against dlib's descriptor on the same faces (docs/people.md, "Stop 34").

    PYTHONPATH=src python benchmarks/faceres_inputs.py [--shared ../shared] [--photos 120]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from identity import tfeid_photos  # noqa: E402


def auc(desc: np.ndarray, truth: np.ndarray) -> float:
    """Probability that a same-person pair is nearer than a different-person pair (L2-normalised descriptors)."""
    v = desc / np.maximum(np.linalg.norm(desc, axis=1, keepdims=True), 1e-12)
    iu = np.triu_indices(len(v), 1)
    d = np.linalg.norm(v[:, None] - v[None], axis=-1)[iu]
    same = (truth[:, None] == truth[None])[iu]
    ranks = np.empty(len(d))
    ranks[np.argsort(d)] = np.arange(len(d))
    return float(1 - (ranks[same].mean() - (same.sum() - 1) / 2) / (~same).sum())


def main() -> int:
    from emotrace.faces import identity
    from emotrace.faces.detectors import create_detector

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    ap.add_argument("--photos", type=int, default=120)
    args = ap.parse_args()
    paths, people = tfeid_photos(Path(args.shared) / "data" / "tfeid")
    pick = np.random.default_rng(0).choice(len(paths), args.photos, replace=False)
    det, emb = create_detector("auto"), identity.FaceEmbedder()
    dlib_emb = identity.FaceEmbedder(descriptor="dlib")
    dlib, shape_model, net = emb._ready()
    faces, who, dl = [], [], []
    for i in pick:
        img = cv2.imread(str(paths[i]))
        dets = det.detect(img)
        if not len(dets):
            continue
        box = dets.boxes[int(np.argmax((dets.boxes[:, 2:] - dets.boxes[:, :2]).prod(1)))]
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        shape = shape_model(np.ascontiguousarray(img[..., ::-1]), dlib.rectangle(x1, y1, x2, y2))
        faces.append((img, np.array([[shape.part(k).x, shape.part(k).y] for k in range(5)], np.float32)))
        who.append(people[i])
        dl.append(dlib_emb([(img, box)])[0])
    truth = np.unique(who, return_inverse=True)[1]
    print(f"{len(faces)} TFEID faces, {truth.max() + 1} people; dlib: AUC {auc(np.asarray(dl), truth):.4f}")
    for zoom in (1.0, 1.15, 1.3):
        chips = []
        for img, pts in faces:
            m = identity.eye_align(pts)  # shrink the face about the chip's centre: a looser crop
            m = np.hstack([m[:, :2] / zoom, (m[:, 2:] - 112) / zoom + 112]).astype(np.float32)
            chips.append(cv2.warpAffine(img, m, (224, 224), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE).astype(np.float32))
        bgr = np.asarray(chips)
        for name, x in (("RGB [0, 255]", bgr[..., ::-1]), ("BGR [0, 255]", bgr),
                        ("BGR minus VGG means (shipped)", bgr - identity.VGG_MEAN_BGR)):
            out = net.run(["features"], {"images": np.ascontiguousarray(x)})[0]
            print(f"  crop {zoom:.2f}x the template's, {name}: AUC {auc(out, truth):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
