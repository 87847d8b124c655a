"""Which person a track is: its face descriptors against the people seen so far (numpy only, no model).

Online average linkage: a track joins the nearest person when the mean distance between its descriptors and that
person's is within `max_distance`, and starts a new person otherwise. Linking is conservative by design: leaving
one person as two ids is a smaller error than merging two people, so the threshold sits well below dlib's 0.6
(docs/people.md has the measurements) and a person with a track seen in the same frame as the new one is never a
candidate (two faces of one frame are two people). Ids count from 1 in the order people are first decided, so the
same frames give the same ids.

Describing costs (a face descriptor is ~150 ms), so `decide` takes a track's faces, not its descriptors, and
describes them (with `embed`, given by the caller: this module runs no model) only when the track has someone to be
compared with. A track with nobody (a file's first face, or every earlier person seen beside it) is a person at
once, `reserve`d with its faces kept, and is described with the first later track that must be compared with it.
The ids and links are those of describing every track when decided.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

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
    """People as they are decided, track by track. `embed(faces) -> (N, D)`: the descriptor `decide` uses."""

    def __init__(self, max_distance: float, embed: Callable[[list[Any]], np.ndarray] | None = None) -> None:
        if not max_distance > 0:
            raise ValueError(f"max_distance must be above 0 (got {max_distance!r})")
        self.max_distance = float(max_distance)
        self.embed = embed
        self.people: list[Person] = []
        self._of_track: dict[int, int] = {}
        self._next = 1
        self._waiting: dict[int, list[Any]] = {}  # reserved person -> its faces, not described yet
        self.described = 0  # faces described (cost, in tests and benchmarks)
        self.seconds = 0.0  # time spent describing them

    def decide(self, track_id: int, faces: list[Any], apart_from: Iterable[int] = ()
               ) -> tuple[int, dict[int, np.ndarray]]:
        """The person of a track given by its faces (at least one), and the descriptors computed for it: {person:
        (N, D)} for this track's faces (under its person) and for any waiting person it was compared with."""
        apart = list(apart_from)
        rivals = self.candidates(apart)
        if not rivals:
            pid = self.reserve(track_id)
            self._waiting[pid] = list(faces)
            return pid, {}
        got = self._describe([p for p in rivals if p in self._waiting], faces)
        own = got.pop(-1)
        pid, _ = self.link(track_id, own, apart_from=apart)
        got[pid] = np.concatenate([got[pid], own]) if pid in got else own
        return pid, got

    def describe_waiting(self) -> dict[int, np.ndarray]:
        """Describe every person still waiting (the end of a source, when their descriptors are wanted)."""
        return self._describe(list(self._waiting))

    def _describe(self, people: list[int], extra: list[Any] | None = None) -> dict[int, np.ndarray]:
        """Describe these waiting people (filling them) and `extra` faces in one call: {person: (N, D)}, with the
        descriptors of `extra` under the key -1."""
        faces = [f for pid in people for f in self._waiting[pid]] + (extra or [])
        if not faces:
            return {}
        if self.embed is None:
            raise ValueError("this linker was made without an embed function")
        start = time.perf_counter()
        desc = self.embed(faces)
        self.seconds += time.perf_counter() - start
        self.described += len(faces)
        out: dict[int, np.ndarray] = {}
        at = 0
        for pid in people:
            n = len(self._waiting.pop(pid))
            self.fill(pid, desc[at:at + n])
            out[pid] = desc[at:at + n]
            at += n
        if extra:
            out[-1] = desc[at:]
        return out

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
        that may compare with it; `decide` does both)."""
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
