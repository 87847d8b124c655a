import cv2
import numpy as np
import pytest

from emotrace.errors import EmotraceError
from emotrace.faces.detectors import available_detectors, create_detector, merge
from emotrace.types import Detections
from tests.helpers import MEDIA, astronaut_frames, needs_shared


@pytest.mark.parametrize("name", available_detectors())
def test_detector_finds_the_astronaut_with_keypoints_inside_the_box(name):
    img = astronaut_frames(1, size=(300, 300))[0]
    dets = create_detector(name).detect(img)
    assert len(dets) == 1
    x1, y1, x2, y2 = dets.boxes[0]
    kp = dets.keypoints[0]
    assert kp.shape == (6, 2)
    assert kp[0, 0] < kp[1, 0]  # image-left eye first
    assert (x1 <= kp[:4, 0]).all() and (kp[:4, 0] <= x2).all() and (y1 <= kp[:4, 1]).all() and (kp[:4, 1] <= y2).all()
    assert 0 < dets.scores[0] <= 1


@pytest.mark.parametrize("name", available_detectors())
def test_blank_image_has_no_face(name):
    assert len(create_detector(name).detect(np.full((240, 320, 3), 127, np.uint8))) == 0


def test_unknown_detector_is_a_clear_error():
    with pytest.raises(EmotraceError, match="unknown detector"):
        create_detector("yunet")


def test_merge_keeps_the_better_of_overlapping_boxes():
    a = Detections(boxes=np.array([[0, 0, 10, 10]], np.float32), scores=np.array([0.9], np.float32),
                   keypoints=np.zeros((1, 6, 2), np.float32))
    b = Detections(boxes=np.array([[1, 1, 11, 11], [50, 50, 60, 60]], np.float32),
                   scores=np.array([0.95, 0.8], np.float32), keypoints=np.ones((2, 6, 2), np.float32))
    m = merge([a, b], 0.3)
    assert len(m) == 2 and m.scores.tolist() == pytest.approx([0.95, 0.8])


@needs_shared
def test_multi_face_photo_finds_all_five_faces():
    if "blazeface" not in available_detectors():
        pytest.skip("mediapipe not installed")
    dets = create_detector("blazeface", min_score=0.7).detect(cv2.imread(str(MEDIA / "multi_face.jpg")))
    assert len(dets) == 5


def test_quiet_stderr_restores_fd2_when_used_from_several_threads():
    # Detectors built at once in several threads (the web server's live sessions) once left fd 2 on /dev/null.
    import os
    import threading
    import time

    from emotrace.faces.detectors import _quiet_stderr

    before = os.readlink("/proc/self/fd/2") if os.path.exists("/proc/self/fd/2") else None
    if before is None:
        pytest.skip("needs /proc to read where fd 2 points")
    start = threading.Barrier(6)

    def work() -> None:
        start.wait()
        for _ in range(20):
            with _quiet_stderr():
                with _quiet_stderr():
                    time.sleep(0.001)  # let the threads interleave inside

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert os.readlink("/proc/self/fd/2") == before
