"""The light MediaPipe import (faces/mediapipe_import.py skips most of `mediapipe.solutions` and the Tasks API)
gives the same detections, to the last bit, as the full `import mediapipe`. Each way runs in a fresh interpreter,
since an import cannot be undone here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import MEDIA, REPO, needs_shared

PHOTOS = ["single_face.jpg", "multi_face.jpg", "two_people.jpg", "BWPictureHuman.jpg"]


def _detections(full_import: bool) -> dict:
    code = (("import mediapipe\n" if full_import else "")
            + "import json, sys, cv2\nfrom emotrace.faces.detectors import BlazeFaceDetector\n"
            "det = BlazeFaceDetector()\nout = {}\n"
            f"for name in {PHOTOS!r}:\n"
            f"    d = det.detect(cv2.imread({str(MEDIA)!r} + '/' + name))\n"
            "    kp = None if d.keypoints is None else d.keypoints.tolist()\n"
            "    out[name] = [d.boxes.tolist(), d.scores.tolist(), kp]\n"
            "out['tasks_loaded'] = 'mediapipe.tasks.python.vision' in sys.modules\n"
            "out['plots_loaded'] = 'matplotlib' in sys.modules\n"
            "print(json.dumps(out))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@needs_shared
def test_the_light_import_detects_exactly_what_the_full_import_does():
    pytest.importorskip("mediapipe")
    light, full = _detections(False), _detections(True)
    assert not light.pop("tasks_loaded") and not light.pop("plots_loaded")
    assert full.pop("tasks_loaded")  # the comparison is against the real thing
    full.pop("plots_loaded")
    assert light == full
    assert sum(len(v[0]) for v in light.values()) >= len(PHOTOS)  # faces were found at all
