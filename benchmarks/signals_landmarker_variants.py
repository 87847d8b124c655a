"""Cheaper ways to run the Face Landmarker, measured per face before changing faces/signals.py.

    PYTHONPATH=src python benchmarks/signals_landmarker_variants.py [--shared ../shared] [--faces 120] [--rounds 2]

On the first --faces tracked faces of WolfgangLanger_Pexels.mp4 (the crop `square_crop` makes of each box): the
median milliseconds of one landmarker call in IMAGE mode at the shipped 256 px crop, at 192 px, without
blendshapes, and in VIDEO mode (one graph for the one track, so the landmarker tracks landmarks from the previous
call instead of running its own face detector) at 256 and 192 px; rounds interleaved. Then how far each variant's
blendshapes move from the shipped reading (max and mean absolute difference over the faces and the 52 scores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--faces", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import mediapipe as mp
    from mediapipe.tasks.python.core.base_options import BaseOptions

    from emotrace.api import run
    from emotrace.faces import signals as sig
    from emotrace.pipeline import Analyzer

    an = Analyzer()
    faces: list[tuple[np.ndarray, np.ndarray]] = []

    def keep(r: Any) -> None:
        if len(r.faces) and len(faces) < args.faces:
            faces.append((r.frame.image, r.faces.boxes[0].copy()))

    run(str(Path(args.shared) / "media" / "WolfgangLanger_Pexels.mp4"), an, on_result=keep, threaded=False)
    an.close()
    vision, image = sig._vision()

    def measure(px: int, video: bool, blendshapes: bool) -> tuple[float, np.ndarray | None]:
        old, sig.CROP_PX = sig.CROP_PX, px
        crops = [sig.square_crop(im, b)[0] for im, b in faces]
        sig.CROP_PX = old
        mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
        lm = vision.FaceLandmarker.create_from_options(vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(sig.task_path())), running_mode=mode, num_faces=1,
            output_face_blendshapes=blendshapes, output_facial_transformation_matrixes=True))
        spent, scores = [], []
        for k, c in enumerate(crops):
            img = image(image_format=mp.ImageFormat.SRGB, data=c)
            t = time.perf_counter()
            r = lm.detect_for_video(img, k * 33) if video else lm.detect(img)
            spent.append(time.perf_counter() - t)
            if blendshapes:
                scores.append([s.score for s in r.face_blendshapes[0]] if r.face_blendshapes else [np.nan] * 52)
        lm.close()
        return 1000 * statistics.median(spent[10:]), np.array(scores) if blendshapes else None

    variants = {"IMAGE 256 px (shipped)": (256, False, True), "IMAGE 192 px": (192, False, True),
                "IMAGE 256 px, no blendshapes": (256, False, False), "VIDEO 256 px": (256, True, True),
                "VIDEO 192 px": (192, True, True)}
    ms: dict[str, list[float]] = {k: [] for k in variants}
    scores: dict[str, np.ndarray | None] = {}
    for _ in range(args.rounds):
        for k, v in variants.items():
            t, s = measure(*v)
            ms[k].append(t)
            scores[k] = s
    base = scores["IMAGE 256 px (shipped)"]
    print(f"{len(faces)} faces of WolfgangLanger_Pexels.mp4, median ms per landmarker call, {args.rounds} rounds:")
    for k in variants:
        s = scores[k]
        d = None if s is None or k.endswith("(shipped)") else np.abs(s - base)
        diff = "" if d is None else f"; blendshapes vs shipped: max |d| {np.nanmax(d):.3f}, mean {np.nanmean(d):.4f}"
        print(f"  {k}: {', '.join(f'{t:.2f}' for t in ms[k])} ms{diff}")


if __name__ == "__main__":
    main()
