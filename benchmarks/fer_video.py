"""The peer end to end: the `fer` package (Haar cascade + its mini-Xception) on every frame of a video, one CSV row
per face, as `emotrace analyze VIDEO --outputs csv` does. Run by bench_speed.py in the peers venv (see
bench_peers.py for how that venv is made); nothing is downloaded.

    /work/peers-venv/bin/python benchmarks/fer_video.py VIDEO OUT.csv
"""

from __future__ import annotations

import csv
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    import cv2
    from fer.fer import FER

    video, out = sys.argv[1], sys.argv[2]
    detector = FER()  # fer's defaults: OpenCV Haar cascade face detector, its bundled classifier
    cap = cv2.VideoCapture(video)
    rows = 0
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["frame", "x", "y", "w", "h", "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"])
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            for face in detector.detect_emotions(frame):
                e = face["emotions"]
                w.writerow([i, *face["box"], *(e[k] for k in ("angry", "disgust", "fear", "happy", "sad", "surprise",
                                                               "neutral"))])
                rows += 1
            i += 1
    cap.release()
    print(f"{i} frames, {rows} faces")


if __name__ == "__main__":
    main()
