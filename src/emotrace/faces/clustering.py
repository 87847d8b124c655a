"""Which of many files' people are one person: average-linkage clustering of per-file person descriptors (numpy only).

`emotrace batch` gives each item's persons (`faces/people.py`: a file's tracks linked by face) a collection-level
id. Each per-file person is one point, its mean descriptor; two clusters merge while the mean distance over all
pairs of their points is within `max_distance`, closest pair first (agglomerative average linkage, the within-file
linker's rule applied to whole people). Conservative like the within-file linker: two people of one file are never
merged (the file's linker already kept them apart), two different known identities are never merged, and a person
with no descriptor stays alone unless an identity names it. Deterministic: the result depends on the points' order
only through ties, which go to the earliest points, and the ids count from 1 in that order, so the caller sorts the
points (by item and person id) and worker order never matters.

Average linkage can only merge clusters with at least one pair of points within `max_distance`, so the work is
done per connected component of that graph: collections of many different people stay cheap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _components(n: int, edges: np.ndarray, same: list[list[int]]) -> list[list[int]]:
    """Connected components (each sorted, listed by their first point) of points joined by `edges` (pairs) or by
    sharing a group of `same`."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for a, b in edges:
        union(int(a), int(b))
    for group in same:
        for b in group[1:]:
            union(group[0], b)
    comps: dict[int, list[int]] = {}
    for i in range(n):
        comps.setdefault(find(i), []).append(i)
    return sorted(comps.values(), key=lambda c: c[0])


def cluster_people(descriptors: np.ndarray, max_distance: float, files: Sequence[str],
                   known: Sequence[str | None] | None = None) -> list[int]:
    """A cluster id (from 1, in order of each cluster's first point) for each point. `descriptors`: (N, D), a row of
    NaN for a person with no descriptor; `files`: each point's file (points of one file are never merged);
    `known`: each point's known identity or None (equal identities are one cluster whatever their faces say,
    different ones never merge). `max_distance` 0: no linking by face (identities still group)."""
    desc = np.asarray(descriptors, np.float64)
    n = len(desc)
    known = list(known) if known is not None else [None] * n
    if not (len(files) == len(known) == n):
        raise ValueError("descriptors, files and known must have one entry per point")
    has = np.isfinite(desc).all(1) if n else np.zeros(0, bool)
    dist = np.full((n, n), np.inf)
    if has.any() and max_distance > 0:
        d = desc[has]
        sub = np.sqrt(np.maximum(((d[:, None, :] - d[None, :, :]) ** 2).sum(-1), 0.0))
        idx = np.flatnonzero(has)
        dist[np.ix_(idx, idx)] = sub
    np.fill_diagonal(dist, np.inf)
    by_identity: dict[str, list[int]] = {}
    for i, k in enumerate(known):
        if k is not None:
            by_identity.setdefault(k, []).append(i)
    edges = np.argwhere(np.triu(dist <= max_distance, 1)) if max_distance > 0 else np.zeros((0, 2), int)
    label = [0] * n
    clusters: list[list[int]] = []
    for comp in _components(n, edges, list(by_identity.values())):
        clusters += _average_linkage(comp, dist, max_distance, files, known)
    for k, members in enumerate(sorted(clusters, key=min), start=1):
        for i in members:
            label[i] = k
    return label


def _average_linkage(points: list[int], dist: np.ndarray, max_distance: float, files: Sequence[str],
                     known: Sequence[str | None]) -> list[list[int]]:
    """The clusters of one component: start from one cluster per known identity and one per other point, then merge
    the closest allowed pair while its mean pairwise distance (over points with descriptors) is within
    `max_distance`."""
    clusters: list[list[int]] = []
    seen: dict[str, int] = {}
    for i in points:
        k = known[i]
        if k is None:
            clusters.append([i])
        elif k in seen:
            clusters[seen[k]].append(i)
        else:
            seen[k] = len(clusters)
            clusters.append([i])
    while len(clusters) > 1:
        best: tuple[float, int, int] | None = None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                if not _may_merge(clusters[a], clusters[b], files, known):
                    continue
                block = dist[np.ix_(clusters[a], clusters[b])]
                finite = block[np.isfinite(block)]
                if not len(finite):
                    continue  # a point without a descriptor is linked by identity only
                d = float(finite.mean())
                if d <= max_distance and (best is None or d < best[0]):
                    best = (d, a, b)
        if best is None:
            break
        _, a, b = best
        clusters[a] = sorted(clusters[a] + clusters[b])
        del clusters[b]
    return clusters


def _may_merge(a: list[int], b: list[int], files: Sequence[str], known: Sequence[str | None]) -> bool:
    """Never two people of one file, never two different known identities."""
    if {files[i] for i in a} & {files[i] for i in b}:
        return False
    ka, kb = {known[i] for i in a} - {None}, {known[i] for i in b} - {None}
    return not (ka and kb and ka != kb)
