"""The person linker: average linkage under a threshold, never across faces seen together, stable ids."""

import numpy as np
import pytest

from emotrace.faces.linking import PersonLinker, mean_distance


def _around(centre: np.ndarray, n: int, spread: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (centre + rng.normal(0, spread / np.sqrt(centre.size), (n, centre.size))).astype(np.float32)


A, B = np.zeros(128, np.float32), np.full(128, 0.08, np.float32)  # |A - B| = 0.905


def test_mean_distance_is_the_mean_over_all_pairs():
    a = np.array([[0.0, 0.0], [2.0, 0.0]])
    b = np.array([[0.0, 1.0]])
    assert mean_distance(a, b) == pytest.approx((1 + np.sqrt(5)) / 2)


def test_tracks_of_one_person_link_and_another_person_gets_a_new_id():
    linker = PersonLinker(0.4)
    assert linker.link(1, _around(A, 3, 0.1, 0)) == (1, False)
    assert linker.link(2, _around(B, 3, 0.1, 1)) == (2, False)
    assert linker.link(3, _around(A, 3, 0.1, 2)) == (1, True)
    assert linker.person_of(3) == 1 and linker.people[0].tracks == [1, 3]


def test_a_track_beyond_the_threshold_stays_apart():
    linker = PersonLinker(0.4)
    linker.link(1, A[None])
    far = A.copy()
    far[0] = 0.45
    assert linker.link(2, far[None]) == (2, False)
    assert PersonLinker(0.5).link(2, far[None]) == (1, False)  # a fresh linker: nothing to join


def test_faces_seen_together_are_never_one_person():
    linker = PersonLinker(0.4)
    linker.link(1, A[None])
    assert linker.link(2, A[None], apart_from=[1]) == (2, False)  # identical descriptors, but in one frame
    assert linker.link(3, A[None], apart_from=[1]) == (2, True)


def test_a_track_without_descriptors_gets_its_own_id_and_is_never_joined():
    linker = PersonLinker(0.4)
    assert linker.new(1) == 1
    assert linker.link(2, A[None]) == (2, False)
    assert linker.new() == 3


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        PersonLinker(0)
    with pytest.raises(ValueError):
        PersonLinker(0.4).link(1, np.zeros((0, 128), np.float32))


def test_a_reserved_person_takes_its_id_now_and_its_descriptors_later():
    linker = PersonLinker(0.4)
    assert linker.reserve(1) == 1 and linker.person_of(1) == 1 and linker.candidates() == [1]
    assert linker.candidates(apart_from=[1]) == []  # seen beside track 1: person 1 is no candidate
    with pytest.raises(ValueError, match="reserved and never filled"):
        linker.link(2, np.zeros((1, 128), np.float32))
    linker.fill(1, np.zeros((2, 128), np.float32))
    with pytest.raises(ValueError, match="already has descriptors"):
        linker.fill(1, np.zeros((1, 128), np.float32))
    assert linker.link(2, np.zeros((1, 128), np.float32)) == (1, True)
    assert linker.link(3, np.ones((1, 128), np.float32)) == (2, False)


def test_decide_describes_a_track_only_when_it_has_someone_to_be_compared_with():
    calls = []

    def embed(faces):  # a face is its own descriptor here
        calls.append(len(faces))
        return np.asarray(faces, np.float32)

    linker = PersonLinker(0.4, embed=embed)
    assert linker.decide(1, [A, A]) == (1, {}) and calls == []  # nobody to compare with: a person, undescribed
    assert linker.decide(2, [B], apart_from=[1]) == (2, {}) and calls == []  # seen beside 1: no candidate either
    pid, got = linker.decide(3, [A])  # compared with both waiting people: all described in one call
    assert pid == 1 and calls == [4] and sorted(got) == [1, 2]
    assert got[1].shape == (3, 128) and got[2].shape == (1, 128)  # person 1: its waiting faces, then track 3's
    assert linker.describe_waiting() == {} and linker.described == 4
