"""The people stage with a stand-in descriptor (no dlib): what is described, when a group is released, the ids."""

import numpy as np

from emotrace.faces.people import MIN_PERSON_PX, PeopleStage, face_quality
from emotrace.types import Detections, Frame


def _face_image(seed: int = 0, size: int = 200) -> np.ndarray:
    """A textured image (sharp enough to be described)."""
    return np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)


FRONTAL = np.array([[[70, 80], [130, 80], [100, 110], [100, 140], [50, 90], [150, 90]]], np.float32)


def _faces(track_ids: list[int], side: float = 100.0, keypoints: np.ndarray = FRONTAL) -> Detections:
    n = len(track_ids)
    boxes = np.tile(np.array([[50, 50, 50 + side, 50 + side]], np.float32), (n, 1))
    return Detections(boxes=boxes, scores=np.ones(n, np.float32), keypoints=np.repeat(keypoints, n, 0),
                      track_id=np.array(track_ids, np.int64))


class FakeEmbed:
    """A descriptor read from the face: who it is, as `_group(who=)` stamped it in the corner of the image (which
    the kept face region includes), so a face described late gets the same descriptor as one described at once."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, faces: list) -> np.ndarray:
        self.calls += len(faces)
        return np.asarray([np.full(128, region[0, 0, 0] / 100, np.float32) for region, _ in faces])


def _group(t0: float, n: int, track_ids: list[int], fps: float = 10.0, who: int = 0, **kw) -> list:
    """`who`: the person shown; people 0 and 10 are 1.13 apart."""
    out = []
    for i in range(n):
        image = _face_image(i)
        image[0, 0, 0] = who
        out.append((Frame(int(t0 * fps) + i, t0 + i / fps, image), _faces(track_ids, **kw), True))
    return out


def test_groups_wait_until_their_tracks_are_decided_then_carry_person_ids():
    embed = FakeEmbed()
    stage = PeopleStage(0.4, embed, window_s=1.0, per_track=3)
    assert stage.feed(_group(0.0, 5, [1]), []) == []  # 0.4 s of track 1: undecided, held
    out = stage.feed(_group(0.5, 6, [1]), [])  # reaches 1.0 s: decided, nobody to compare with, so not described
    assert len(out) == 2 and embed.calls == 0 and stage.descriptors == 0
    for group, _ in out:
        for _, faces, _ in group:
            assert faces.person_id.tolist() == [1] and faces.person_basis.tolist() == ["face"]
    (pid, (mean, n)), = stage.person_descriptors().items()  # its best 3 frames, described when asked for
    assert pid == 1 and n == 3 and embed.calls == 3 and mean.shape == (128,)
    assert stage.person_descriptors()[1][1] == 3 and embed.calls == 3  # once


def test_people_are_described_only_when_a_later_track_must_be_compared_with_them():
    embed = FakeEmbed()
    stage = PeopleStage(0.4, embed, window_s=0.0, per_track=2)
    stage.feed(_group(0.0, 2, [1, 2]), [1, 2])  # two faces of one frame: two people, nobody to compare with
    assert embed.calls == 0
    (g, _), = stage.feed(_group(1.0, 1, [3], who=10), [3])  # compared with both: all three described, in one call
    assert g[0][1].person_id.tolist() == [3] and embed.calls == 2 + 2 + 1
    stage.feed(_group(2.0, 1, [4, 5]), [4, 5])  # 4 joins person 1; 5, seen beside 4, could still join 2 or 3
    assert embed.calls == 5 + 2 and set(stage.person_descriptors()) == {1, 2, 3}


def test_a_track_that_ends_early_is_decided_with_its_frames_and_drops_travel_with_their_group():
    stage = PeopleStage(0.4, FakeEmbed(), window_s=1.0)
    out = stage.feed(_group(0.0, 2, [7]), [7])
    assert len(out) == 1 and out[0][1] == [7] and out[0][0][0][1].person_id.tolist() == [1]


def test_a_later_track_of_the_same_person_shares_its_id_and_another_person_does_not():
    embed = FakeEmbed()
    stage = PeopleStage(0.4, embed, window_s=0.0)
    stage.feed(_group(0.0, 1, [1]), [1])
    (g2, _), = stage.feed(_group(1.0, 1, [2], who=10), [2])
    (g3, _), = stage.feed(_group(2.0, 1, [3]), [3])
    assert g2[0][1].person_id.tolist() == [2] and g3[0][1].person_id.tolist() == [1]


def test_two_faces_of_one_frame_are_two_people_even_with_one_descriptor():
    stage = PeopleStage(0.4, FakeEmbed(), window_s=0.0)
    (g, _), = stage.feed(_group(0.0, 1, [1, 2]), [])
    assert sorted(g[0][1].person_id.tolist()) == [1, 2]


def test_small_blurred_and_turned_faces_give_no_descriptor_and_say_why():
    embed = FakeEmbed()
    stage = PeopleStage(0.4, embed, window_s=0.0)
    (g, _), = stage.feed(_group(0.0, 1, [1], side=MIN_PERSON_PX - 1), [])
    assert g[0][1].person_basis.tolist() == ["too_small"]
    blurred = [(Frame(0, 5.0, np.full((200, 200, 3), 128, np.uint8)), _faces([2]), True)]
    (g, _), = stage.feed(blurred, [])
    turned = FRONTAL.copy()
    turned[0, 2, 0] = 125  # the nose far to one side: a face turned away
    (g2, _), = stage.feed(_group(6.0, 1, [3], keypoints=turned), [])
    assert g[0][1].person_basis.tolist() == ["unclear"] and g2[0][1].person_basis.tolist() == ["unclear"]
    assert embed.calls == 0
    assert face_quality(_face_image(), np.array([50, 50, 150, 150], np.float32), FRONTAL[0])[0] > 0


def test_faces_the_tracker_carried_are_not_described_and_flush_releases_everything():
    embed = FakeEmbed()
    stage = PeopleStage(0.4, embed, window_s=1.0)
    carried = [(f, d, False) for f, d, _ in _group(0.0, 3, [1])]
    assert stage.feed(carried, []) == []
    out = stage.flush()
    assert len(out) == 1 and out[0][0][0][1].person_basis.tolist() == ["too_small"] and embed.calls == 0


def test_frames_without_faces_pass_and_reset_numbers_people_from_one_again():
    stage = PeopleStage(0.4, FakeEmbed(), window_s=0.0)
    empty = [(Frame(0, 0.0, _face_image()), Detections(), True)]
    (g, _), = stage.feed(empty, [])
    assert g[0][1].person_id.tolist() == []
    stage.feed(_group(1.0, 1, [4]), [])
    stage.reset()
    (g, _), = stage.feed(_group(0.0, 1, [9]), [])
    assert g[0][1].person_id.tolist() == [1]


def test_photos_are_each_a_person_of_their_own():
    stage = PeopleStage(0.4, FakeEmbed())
    group = [(Frame(0, 0.0, _face_image()), _faces([1, 2]), True), (Frame(1, 0.0, _face_image()), _faces([3]), True)]
    stage.photos(group)
    assert [g[1].person_id.tolist() for g in group] == [[1, 2], [3]]
    assert group[1][1].person_basis.tolist() == ["photo"]


def test_photo_faces_are_described_only_when_asked_and_only_when_usable():
    """Batch links photos across items by their descriptors: one per usable face, computed after the item."""
    embed = FakeEmbed()
    stage = PeopleStage(0.4, embed)
    turned = FRONTAL.copy()
    turned[0, 2, 0] = 125
    group = [(Frame(0, 0.0, _face_image()), _faces([1]), True),
             (Frame(1, 0.0, _face_image()), _faces([2], side=MIN_PERSON_PX - 1), True),
             (Frame(2, 0.0, _face_image()), _faces([3], keypoints=turned), True)]
    stage.photos(group)
    assert embed.calls == 0
    got = stage.person_descriptors()
    assert list(got) == [1] and got[1][1] == 1 and embed.calls == 1


def test_describing_late_gives_the_ids_of_describing_every_track_at_once():
    """The stage against the linker driven plainly (every track described when decided), on random scripts of
    one-frame groups of one or two faces whose people lie near and across the threshold."""
    from emotrace.faces.linking import PersonLinker

    rng = np.random.default_rng(7)
    for _ in range(40):
        stage, plain, embed = PeopleStage(0.4, FakeEmbed(), window_s=0.0), PersonLinker(0.4), FakeEmbed()
        got, want, tid = [], [], 1
        for step in range(int(rng.integers(2, 9))):
            ids = [tid] if rng.random() < 0.6 else [tid, tid + 1]
            tid += len(ids)
            who = int(rng.choice([0, 3, 6, 9]))
            group = _group(float(step), 1, ids, who=who)
            (g, _), = stage.feed(group, ids)
            got += g[0][1].person_id.tolist()
            for t in ids:
                region = group[0][0].image
                want.append(plain.link(t, embed([(region, None)]), apart_from=[u for u in ids if u != t])[0])
        assert got == want


def test_the_descriptor_is_warmed_when_a_second_track_appears_not_before():
    warmed = []
    stage = PeopleStage(0.4, FakeEmbed(), window_s=1.0, warm=lambda: warmed.append(True))
    stage.feed(_group(0.0, 12, [1]), [1])
    assert warmed == []  # one person so far: nothing to compare, nothing to load
    stage.feed(_group(2.0, 1, [2]), [])
    assert warmed == [True]
    stage.feed(_group(2.1, 1, [2, 3]), [])
    assert warmed == [True]


def test_a_folder_of_many_photos_keeps_a_bounded_amount_of_faces(monkeypatch):
    from emotrace.faces import people

    monkeypatch.setattr(people, "PHOTO_FACES_BYTES", 3 * 200 * 200 * 3)  # three regions of these photos
    stage = PeopleStage(0.4, FakeEmbed())
    stage.photos([(Frame(k, 0.0, _face_image(k)), _faces([k + 1]), True) for k in range(5)])
    assert sorted(stage.person_descriptors()) == [1, 2, 3]
