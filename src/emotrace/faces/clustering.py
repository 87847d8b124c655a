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
    `max_distance`; ties go to the earliest pair. The sums and counts of pairwise distances between clusters are
    kept and added on each merge, so a merge costs one pass over the clusters, not a pass over all their points."""
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
    m = len(clusters)
    if m < 2:
        return clusters
    member = np.zeros((m, len(points)), np.float64)  # cluster x point
    pos = {p: j for j, p in enumerate(points)}
    for c, members in enumerate(clusters):
        member[c, [pos[i] for i in members]] = 1.0
    block = dist[np.ix_(points, points)]
    finite = np.isfinite(block)
    total = member @ np.where(finite, block, 0.0) @ member.T  # sum of finite pairwise distances between clusters
    count = member @ finite.astype(np.float64) @ member.T  # how many pairs had both descriptors
    # Never two people of one file, never two different known identities (an initial cluster has at most one).
    file_codes = {f: j for j, f in enumerate(dict.fromkeys(files[i] for i in points))}
    in_file = np.zeros((m, len(file_codes)), np.float64)
    ident = np.full(m, -1)
    id_codes: dict[str, int] = {}
    for c, members in enumerate(clusters):
        in_file[c, [file_codes[files[i]] for i in members]] = 1.0
        k = known[members[0]]
        if k is not None:
            ident[c] = id_codes.setdefault(k, len(id_codes))
    forbidden = (in_file @ in_file.T) > 0
    forbidden |= (ident[:, None] >= 0) & (ident[None, :] >= 0) & (ident[:, None] != ident[None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1.0), np.inf)
    upper = np.triu(np.ones((m, m), bool), 1)
    cand = np.where(upper & ~forbidden & (mean <= max_distance), mean, np.inf)  # mergeable pairs, a < b
    alive = np.ones(m, bool)
    while True:
        a, b = divmod(int(np.argmin(cand)), m)  # row-major: the earliest of equal pairs
        if not np.isfinite(cand[a, b]):
            break
        clusters[a] = sorted(clusters[a] + clusters[b])
        clusters[b] = []
        alive[b] = False
        for grid in (total, count):
            grid[a, :] += grid[b, :]
            grid[:, a] += grid[:, b]
        forbidden[a, :] |= forbidden[b, :]
        forbidden[:, a] |= forbidden[:, b]
        cand[b, :] = cand[:, b] = np.inf
        with np.errstate(invalid="ignore", divide="ignore"):
            row = np.where(count[a] > 0, total[a] / np.maximum(count[a], 1.0), np.inf)
        ok = alive & ~forbidden[a] & (row <= max_distance)
        ok[a] = False
        row = np.where(ok, row, np.inf)
        cand[a, a + 1:] = row[a + 1:]
        cand[:a, a] = row[:a]
    return [c for c in clusters if c]
