"""Collection-level people (issue 25 B): average linkage over per-file persons, conservative and deterministic."""

import numpy as np

from emotrace.faces.clustering import cluster_people


def _point(seed: int, base: np.ndarray, spread: float) -> np.ndarray:
    return base + np.random.default_rng(seed).normal(0, spread, base.shape)


A, B = np.zeros(8), np.full(8, 0.5)  # two people 1.41 apart


def test_one_person_over_files_is_one_id_and_two_people_stay_two():
    desc = np.stack([_point(1, A, 0.03), _point(2, B, 0.03), _point(3, A, 0.03), _point(4, B, 0.03)])
    assert cluster_people(desc, 0.38, ["f1", "f1", "f2", "f2"]) == [1, 2, 1, 2]


def test_people_of_one_file_never_merge_and_off_links_nothing():
    desc = np.stack([_point(1, A, 0.01), _point(2, A, 0.01)])
    assert cluster_people(desc, 0.38, ["f1", "f1"]) == [1, 2]
    assert cluster_people(desc, 0.38, ["f1", "f2"]) == [1, 1]
    assert cluster_people(desc, 0.0, ["f1", "f2"]) == [1, 2]


def test_average_linkage_refuses_a_chain():
    # x -- y -- z each 0.3 apart in a line, x to z 0.6: single linkage would make one person; average linkage
    # joins x and y (0.3), then z to {x, y} averages 0.45 > 0.38 and stays apart.
    x, y, z = np.zeros(2), np.array([0.3, 0.0]), np.array([0.6, 0.0])
    assert cluster_people(np.stack([x, y, z]), 0.38, ["a", "b", "c"]) == [1, 1, 2]


def test_known_identities_win_over_faces():
    desc = np.stack([_point(1, A, 0.01), _point(2, A, 0.01), _point(3, B, 0.01), np.full(8, np.nan)])
    files = ["f1", "f2", "f3", "f4"]
    # Same face, told apart by the manifest; another face and a faceless person joined to P1 by it.
    assert cluster_people(desc, 0.38, files, ["P1", "P2", "P1", "P1"]) == [1, 2, 1, 1]
    assert cluster_people(desc, 0.38, files) == [1, 1, 2, 3]  # without them: by face, the faceless alone


def test_ids_depend_on_the_points_not_on_chance():
    rng = np.random.default_rng(0)
    desc = rng.normal(0, 0.2, (40, 8))
    files = [f"f{i}" for i in range(40)]
    first = cluster_people(desc, 0.38, files)
    assert first == cluster_people(desc.copy(), 0.38, list(files)) and max(first) < 40


def test_a_large_collection_of_a_few_people_is_one_id_each():
    """600 per-file people, four real people: every pair within a person is near, so one connected component of
    600 points is clustered (each merge updates the clusters' distance sums instead of re-reading their points)."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(4, 128))
    centres *= 2.0 / np.linalg.norm(centres, axis=1, keepdims=True)
    truth = np.repeat(np.arange(4), 150)
    desc = centres[truth] + rng.normal(scale=0.01, size=(600, 128))
    labels = cluster_people(desc, 0.38, files=[f"item{i}" for i in range(600)])
    assert len(set(labels)) == 4
    assert all(len({labels[i] for i in np.flatnonzero(truth == k)}) == 1 for k in range(4))


def _reference(desc: np.ndarray, max_distance: float, files: list[str], known: list) -> list[int]:
    """The rule written plainly (every allowed pair's mean over all point pairs, each round): the oracle."""
    n = len(desc)
    d = np.sqrt(((desc[:, None] - desc[None]) ** 2).sum(-1))
    clusters: list[list[int]] = []
    for i in range(n):
        same = next((c for c in clusters if known[i] is not None and known[c[0]] == known[i]), None)
        (same.append(i) if same is not None else clusters.append([i]))
    while True:
        best = None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                ca, cb = clusters[a], clusters[b]
                if {files[i] for i in ca} & {files[i] for i in cb}:
                    continue
                ka, kb = {known[i] for i in ca} - {None}, {known[i] for i in cb} - {None}
                if ka and kb and ka != kb:
                    continue
                block = d[np.ix_(ca, cb)]
                finite = block[np.isfinite(block)]
                if len(finite) and finite.mean() <= max_distance and (best is None or finite.mean() < best[0]):
                    best = (finite.mean(), a, b)
        if best is None:
            break
        clusters[best[1]] = sorted(clusters[best[1]] + clusters.pop(best[2]))
    label = [0] * n
    for k, members in enumerate(sorted(clusters, key=min), start=1):
        for i in members:
            label[i] = k
    return label


def test_same_ids_as_the_rule_written_plainly():
    """Random collections with shared files, known identities and people without descriptors."""
    rng = np.random.default_rng(1)
    for _ in range(150):
        n = int(rng.integers(1, 25))
        desc = rng.normal(size=(n, 4)) * rng.uniform(0.2, 1.0)
        desc[rng.random(n) < 0.1] = np.nan
        files = [str(x) for x in rng.integers(0, max(1, n // 2), n)]
        known = [None if rng.random() < 0.7 else f"k{rng.integers(0, 3)}" for _ in range(n)]
        thr = float(rng.uniform(0.3, 2.0))
        assert cluster_people(desc, thr, files, known) == _reference(desc, thr, files, known)
