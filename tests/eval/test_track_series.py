"""Per-track series recorded from the pipeline, shared by the flicker evaluation and the temporal benchmark."""

from __future__ import annotations

import numpy as np

from emotrace.eval.flicker import track_records
from emotrace.eval.temporal_bench import record_tracks
from tests.helpers import MEDIA, needs_shared


@needs_shared
def test_both_recorders_see_the_same_tracks_and_frame_probabilities():
    video = MEDIA / "single_face.mp4"
    flick = track_records(video, temporal="ema", threads=1)
    bench = record_tracks([video])
    assert sorted(flick) == [int(tr["track"]) for tr in bench] and len(bench) >= 1
    for tr in bench:
        rec = flick[int(tr["track"])]
        assert np.array_equal(rec["t"], tr["t"]) and np.all(np.diff(tr["t"]) > 0)
        assert np.allclose(rec["frame"], tr["probs"], atol=1e-6)
        assert tr["emb"].shape[0] == len(tr["t"]) and tr["emb"].shape[1] > 0
        assert rec["temporal"].shape == rec["frame"].shape and rec["temporal_stage"].startswith("ema")
