"""The threaded run (decode ahead, detection and tracking ahead of the models, sinks written behind) gives exactly
the single-threaded results and files, on real clips with several faces and shot cuts."""

import pytest

from emotrace.api import build_sinks, run
from emotrace.pipeline import Analyzer
from emotrace.sinks import result_rows
from tests.helpers import MEDIA, needs_shared


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer()


def _rows(analyzer, path, threaded, out=None):
    rows = []
    sinks = build_sinks(out, ["csv", "jsonl", "summary"]) if out is not None else []
    run(str(path), analyzer, sinks, threaded=threaded,
        on_result=lambda r: rows.extend(result_rows(r, analyzer.classes, True)))
    return rows


@pytest.mark.slow
@needs_shared
@pytest.mark.parametrize("clip", ["short_hamilton_clip.mp4", "WolfgangLanger_Pexels.mp4"])
def test_threaded_equals_single_threaded(analyzer, clip, tmp_path):
    single = _rows(analyzer, MEDIA / clip, False, tmp_path / "single")
    threaded = _rows(analyzer, MEDIA / clip, True, tmp_path / "threaded")
    assert len(single) == len(threaded) > 0
    assert single == threaded
    for name in ("emotions.csv", "emotions.jsonl"):
        assert (tmp_path / "single" / name).read_bytes() == (tmp_path / "threaded" / name).read_bytes()


@needs_shared
def test_stream_threaded_frees_ended_tracks_as_before(analyzer):
    """Shot cuts end tracks in the detection thread; the temporal state is freed on the model side, and after a
    clip no state is left for tracks that ended."""
    from emotrace.sources import open_source

    analyzer.reset()
    src = open_source(str(MEDIA / "short_hamilton_clip.mp4"))
    try:
        results = list(analyzer.stream(iter(src), threaded=True))
    finally:
        src.close()
    assert len(results) == 275
    alive = {t.track_id for t in analyzer.tracker.tracks}
    assert set(analyzer.temporal._state) <= alive


@needs_shared
def test_a_failing_sink_still_aborts_every_output_when_threaded(analyzer, tmp_path):
    from emotrace.sinks.base import Sink

    class Boom(Sink):
        def __init__(self):
            self.n = 0

        def write(self, result):
            self.n += 1
            if self.n == 30:
                raise OSError("disk full")

        def close(self):
            return []

    sinks = [*build_sinks(tmp_path, ["csv", "jsonl"]), Boom()]
    with pytest.raises(OSError, match="disk full"):
        run(str(MEDIA / "WolfgangLanger_Pexels.mp4"), analyzer, sinks, threaded=True)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".emotrace")] == []


def test_signals_in_their_own_thread_give_the_single_threaded_readings(tmp_path):
    """With signals on, the reader is a stage of its own: same readings, same every-N pattern per track, the
    counts of ended tracks freed, on a clip with a cut (the astronaut twice, a blank between)."""
    import numpy as np

    from tests.helpers import astronaut_frames

    images = astronaut_frames(10)
    images = images[:5] + [np.zeros_like(images[0])] * 2 + images[5:]
    analyzer = Analyzer(signals=3, detect_every=1)

    def rows(threaded: bool) -> list[dict]:
        out: list[dict] = []
        run(images, analyzer, threaded=threaded,
            on_result=lambda r: out.extend(result_rows(r, analyzer.classes, True, with_signals=True)))
        return out

    single, threaded = rows(False), rows(True)
    assert single == threaded
    statuses = [r["signals"] for r in single if r["track_id"] is not None]
    assert statuses[:3] == ["measured", "skipped", "skipped"] and "measured" in statuses[3:]
    assert analyzer.signals._seen == {} or all(k in {r["track_id"] for r in single} for k in analyzer.signals._seen)


@needs_shared
def test_flagged_faces_hold_the_temporal_label_and_leave_the_frame_model_alone():
    """With signals on, a face flagged in profile / looking down / eyes closed feeds the temporal stage its track's
    last clear input (`--no-hold-unclear` feeds it as read): the frame columns are the same either way, the
    temporal columns differ only on tracks that had a flagged face (the Hamilton clip's first 60 frames: one)."""
    import cv2

    from emotrace.api import analyze

    cap = cv2.VideoCapture(str(MEDIA / "short_hamilton_clip.mp4"))
    frames = [cap.read()[1] for _ in range(60)]
    cap.release()
    on = analyze(frames, signals=1, temporal="ema", person_distance=0)
    off = analyze(frames, signals=1, temporal="ema", person_distance=0, hold_unclear=False)
    frame_cols = [c for c in on.columns if c.startswith("frame_")]
    temporal_cols = [c for c in on.columns if c.startswith("temporal_")]
    assert on[frame_cols].equals(off[frame_cols]) and on["signals_quality"].equals(off["signals_quality"])
    flagged_tracks = set(on.loc[on["signals_quality"] != "", "track_id"])
    assert flagged_tracks, "the frames have no flagged face to test with"
    same_track = ~on["track_id"].isin(flagged_tracks)
    assert on.loc[same_track, temporal_cols].equals(off.loc[same_track, temporal_cols])
    assert not on[temporal_cols].equals(off[temporal_cols])
