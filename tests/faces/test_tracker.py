import numpy as np

from emotrace.faces.boxes import iou_matrix
from emotrace.faces.tracker import Tracker
from emotrace.types import Detections


def dets(*boxes):
    b = np.array(boxes, np.float32).reshape(-1, 4)
    return Detections(boxes=b, scores=np.ones(len(b), np.float32))


def test_iou():
    m = iou_matrix(np.array([[0, 0, 10, 10]], np.float32), np.array([[5, 0, 15, 10], [20, 20, 30, 30]], np.float32))
    assert m[0, 0] == np.float32(50 / 150) and m[0, 1] == 0


def test_ids_stay_with_moving_people_and_survive_a_short_miss():
    tr = Tracker(max_lost_s=1.0)
    a, b = np.array([0, 0, 50, 50.0]), np.array([200, 0, 250, 50.0])
    first = tr.update(dets(a, b), 0.0).track_id.tolist()
    for k in range(1, 10):
        step = np.array([8, 2, 8, 2.0]) * k
        ids = tr.update(dets(b + step * -1, a + step), k * 0.04).track_id.tolist()  # order swapped
        assert ids == first[::-1]
    tr.update(dets(), 0.40)  # occluded for a few frames
    tr.update(dets(), 0.44)
    ids = tr.update(dets(a + np.array([8, 2, 8, 2.0]) * 12), 0.48).track_id.tolist()
    assert ids == [first[0]]


def test_track_expires_and_a_new_person_gets_a_new_id():
    tr = Tracker(max_lost_s=0.5)
    first = tr.update(dets([0, 0, 50, 50]), 0.0).track_id[0]
    tr.update(dets(), 1.0)
    assert first in tr.ended
    assert tr.update(dets([0, 0, 50, 50]), 1.1).track_id[0] != first


def test_coast_predicts_with_velocity():
    tr = Tracker()
    tr.update(dets([0, 0, 50, 50]), 0.0)
    ids = tr.update(dets([10, 0, 60, 50]), 0.1).track_id
    c = tr.coast(ids, 0.2)
    assert c.track_id.tolist() == ids.tolist()
    assert 10 < c.boxes[0, 0] <= 20


def test_end_all_gives_new_ids_after_a_cut():
    tr = Tracker()
    first = tr.update(dets([0, 0, 50, 50]), 0.0).track_id[0]
    assert tr.end_all() == [first]
    assert tr.update(dets([0, 0, 50, 50]), 0.04).track_id[0] != first


def test_confirmed_says_how_well_a_detection_matched_the_predictions():
    tr = Tracker()
    box = np.array([[10, 10, 50, 50]], np.float32)
    tr.update(Detections(boxes=box, scores=np.ones(1, np.float32)), 0.0)
    assert tr.confirmed == 0.0  # a face arrived
    tr.update(Detections(boxes=box + 1, scores=np.ones(1, np.float32)), 0.04)
    assert 0.85 < tr.confirmed < 1.0  # the same face, one pixel on
    two = np.concatenate([box, box + 100])
    tr.update(Detections(boxes=two, scores=np.ones(2, np.float32)), 0.08)
    assert tr.confirmed == 0.0  # someone else arrived
    tr.update(Detections(boxes=box, scores=np.ones(1, np.float32)), 0.12)
    assert tr.confirmed == 0.0  # one tracked face was not found


def test_youngest_s_is_the_age_of_the_newest_live_track():
    tr = Tracker()
    tr.update(dets([10, 10, 50, 50]), 0.0)
    tr.update(dets([10, 10, 50, 50]), 0.5)
    assert tr.youngest_s == 0.5
    tr.update(dets([10, 10, 50, 50], [100, 100, 140, 140]), 0.7)
    assert tr.youngest_s == 0.0
