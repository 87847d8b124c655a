"""Per-person results (issue 25 B): summary.json, report.html and the timelines judge a person on all its tracks."""

import json

import numpy as np
import pytest

from emotrace.api import build_sinks
from emotrace.outputs import summary_persons, summary_tracks
from emotrace.results import FrameResult
from emotrace.sinks import RunMeta
from emotrace.types import Detections, Frame

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
# (track, person, label, frames): person 1 is happy in track 1 and sad for longer in track 3; person 2 angry.
TRACKS = [(1, 1, "happy", 3), (2, 2, "angry", 2), (3, 1, "sad", 4)]


def _results(people: bool) -> list[FrameResult]:
    out, i = [], 0
    for tid, pid, label, n in TRACKS:
        probs = np.full((1, 7), 0.05, np.float32)
        probs[0, CLASSES.index(label)] = 0.7
        for _ in range(n):
            d = Detections(boxes=np.array([[10, 10, 60, 70]], np.float32), scores=np.full(1, 0.9, np.float32),
                           track_id=np.array([tid]), frame_probs=probs, temporal_probs=probs)
            if people:
                d.person_id, d.person_basis = np.array([pid], np.int64), np.array(["face"], dtype=object)
            out.append(FrameResult(Frame(i, i / 10, np.zeros((90, 121, 3), np.uint8), "clip.mp4"), d))
            i += 1
    return out


def _run(tmp_path, people: bool, outputs=("summary", "report")) -> dict:
    sinks = build_sinks(tmp_path, list(outputs))
    for s in sinks:
        s.open(RunMeta("clip.mp4", CLASSES, 10, analyzer={"temporal_stage": "ema"}))
    for r in _results(people):
        for s in sinks:
            s.write(r)
    for s in sinks:
        s.close()
    return json.loads((tmp_path / "summary.json").read_text())


def test_a_persons_emotions_count_every_frame_of_its_tracks(tmp_path):
    s = _run(tmp_path, people=True)
    persons = summary_persons(s)
    assert [p["person_id"] for p in persons] == [1, 2] and persons[0]["tracks"] == [1, 3]
    one = persons[0]
    assert one["frames"] == 7 and one["dominant_emotion"] == "sad"  # track 1 alone would say happy
    assert one["label_distribution"]["sad"] == pytest.approx(4 / 7, abs=1e-4)
    assert one["label_distribution"]["happy"] == pytest.approx(3 / 7, abs=1e-4)
    assert one["seconds"] == pytest.approx(0.2 + 0.3) and (one["start_s"], one["end_s"]) == (0.0, 0.8)
    assert persons[1]["dominant_emotion"] == "angry" and persons[1]["tracks"] == [2]
    assert [t["dominant_emotion"] for t in summary_tracks(s)] == ["happy", "angry", "sad"]  # track detail kept

    page = (tmp_path / "report.html").read_text()
    assert "3 track(s) of 2 person(s)" in page
    p1, p2 = page.index("Person 1: mostly sad"), page.index("Person 2: mostly angry")
    assert p1 < page.index("Track 1") < page.index("Track 3") < p2 < page.index("Track 2")  # tracks inside
    assert "2 track(s) (1, 3)" in page and "0.50 s on screen, 7 frames" in page


def test_with_linking_off_the_results_are_per_track(tmp_path):
    s = _run(tmp_path, people=False)
    assert "persons" not in s and summary_persons(s) == []
    assert [t["track_id"] for t in summary_tracks(s)] == [1, 2, 3]
    page = (tmp_path / "report.html").read_text()
    assert "id='person" not in page and "person(s)" not in page and "<h2>Track 1: mostly happy</h2>" in page
