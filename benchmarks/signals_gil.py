"""Does the Face Landmarker hold Python's GIL, and what does a busy Python thread beside it cost it? (issue 26,
why signals=1 stays under 40% of the speed without signals.)

    PYTHONPATH=src python benchmarks/signals_gil.py [--shared ../shared] [--seconds 2] [--switch 0.005]

A pure-Python counting thread runs alone for --seconds, then beside the landmarker called in a loop on a 256 px crop
of single_face.jpg; printed: the share of its count it keeps (near 1: the landmarker releases the GIL), the
landmarker's ms per call beside it and alone. --switch sets `sys.setswitchinterval` first (5 ms is Python's default).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np


def spin(stop: threading.Event, out: list[int]) -> None:
    n = 0
    while not stop.is_set():
        for _ in range(1000):
            n += 1
    out.append(n)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--switch", type=float, default=0.005)
    args = ap.parse_args()
    sys.setswitchinterval(args.switch)
    import mediapipe as mp

    from emotrace.faces.signals import SignalReader

    reader = SignalReader()
    img = cv2.cvtColor(cv2.imread(str(Path(args.shared) / "media" / "single_face.jpg")), cv2.COLOR_BGR2RGB)
    image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(cv2.resize(img, (256, 256))))

    def calls() -> float:
        t0, k = time.perf_counter(), 0
        while time.perf_counter() - t0 < args.seconds:
            reader._landmarker.detect(image)  # the call SignalReader makes, without its crop and unpacking
            k += 1
        return (time.perf_counter() - t0) / k * 1000

    counts: list[int] = []
    for beside in (False, True):
        stop = threading.Event()
        t = threading.Thread(target=spin, args=(stop, counts))
        t.start()
        ms_beside = calls() if beside else time.sleep(args.seconds)
        stop.set()
        t.join()
    ms_alone = calls()
    reader.close()
    print(f"switch interval {args.switch * 1000:g} ms: a Python thread keeps {counts[1] / counts[0]:.0%} of its "
          f"count beside the landmarker; landmarker {ms_beside:.1f} ms a call beside it, {ms_alone:.1f} ms alone")


if __name__ == "__main__":
    main()
