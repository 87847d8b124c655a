"""Which person a track is: its face descriptors against the people seen so far (numpy only, no model).

Online average linkage: a track joins the nearest person when the mean distance between its descriptors and that
person's is within `max_distance`, and starts a new person otherwise. Linking is conservative by design: leaving
one person as two ids is a smaller error than merging two people, so the threshold sits well below dlib's 0.6
(docs/people.md has the measurements) and a person with a track seen in the same frame as the new one is never a
candidate (two faces of one frame are two people). Ids count from 1 in the order people are first decided, so the
same frames give the same ids.

A person may be `reserve`d before its descriptors exist (a track with nobody to be compared with yet: describing it
would cost and decide nothing) and `fill`ed when a later track must be compared with it; the ids and links are
those of describing everything at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

MAX_DESCRIPTORS = 24  # a person's descriptors kept for linking (the first ones: enough, and linking stays cheap)


@dataclass
class Person:
    """One person: the descriptors of its tracks, and the tracks."""

    id: int
    descriptors: np.ndarray  # (M, D)
    tracks: list[int] = field(default_factory=list)


def mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean Euclidean distance over every pair of rows of `a` and `b` (average linkage)."""
    d = np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0.0))
    return float(d.mean())


class PersonLinker:
    """People as they are decided, track by track."""

    def __init__(self, max_distance: float) -> None:
        if not max_distance > 0:
            raise ValueError(f"max_distance must be above 0 (got {max_distance!r})")
        self.max_distance = float(max_distance)
        self.people: list[Person] = []
        self._of_track: dict[int, int] = {}
        self._next = 1

    def person_of(self, track_id: int) -> int | None:
        return self._of_track.get(track_id)

    def new(self, track_id: int | None = None) -> int:
        """A person of its own for a track with no usable descriptor, or a face of a photo (never linked)."""
        pid = self._take_id()
        if track_id is not None:
            self._of_track[track_id] = pid
        return pid

    def reserve(self, track_id: int) -> int:
        """A new linkable person for a track whose descriptors are not computed yet (`fill` them before any `link`
        that may compare with it)."""
        person = Person(self._take_id(), np.zeros((0, 0), np.float32), [track_id])
        self.people.append(person)
        self._of_track[track_id] = person.id
        return person.id

    def fill(self, person_id: int, descriptors: np.ndarray) -> None:
        """The descriptors (N, D) of a `reserve`d person's track."""
        person = next(p for p in self.people if p.id == person_id)
        if len(person.descriptors):
            raise ValueError(f"person {person_id} already has descriptors")
        person.descriptors = descriptors[:MAX_DESCRIPTORS].copy()

    def candidates(self, apart_from: Iterable[int] = ()) -> list[int]:
        """The people a track seen beside the tracks `apart_from` could join."""
        excluded = {self._of_track[t] for t in apart_from if t in self._of_track}
        return [p.id for p in self.people if p.id not in excluded]

    def link(self, track_id: int, descriptors: np.ndarray, apart_from: Iterable[int] = ()) -> tuple[int, bool]:
        """The person of a track with these descriptors (N, D), and whether it is an earlier person. `apart_from`:
        tracks seen in the same frames as this one; their people are not candidates."""
        if len(descriptors) == 0:
            raise ValueError("link needs at least one descriptor (use new)")
        excluded = {self._of_track[t] for t in apart_from if t in self._of_track}
        best, best_d = None, self.max_distance
        for person in self.people:
            if person.id in excluded:
                continue
            if not len(person.descriptors):
                raise ValueError(f"person {person.id} was reserved and never filled")
            d = mean_distance(descriptors, person.descriptors)
            if d <= best_d:
                best, best_d = person, d
        if best is None:
            best = Person(self._take_id(), descriptors[:MAX_DESCRIPTORS].copy())
            self.people.append(best)
            joined = False
        else:
            room = MAX_DESCRIPTORS - len(best.descriptors)
            if room > 0:
                best.descriptors = np.concatenate([best.descriptors, descriptors[:room]])
            joined = True
        best.tracks.append(track_id)
        self._of_track[track_id] = best.id
        return best.id, joined

    def _take_id(self) -> int:
        pid = self._next
        self._next += 1
        return pid
