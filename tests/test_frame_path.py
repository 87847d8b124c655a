"""Issue 22's goal, traced (benchmarks/frame_path.py): a steady frame's way, source -> analyzer -> sinks, enters
each emotrace module at most twice and never climbs back up the layers. Structural counts, no timing."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.helpers import MEDIA, REPO, astronaut_frames, needs_shared, write_video


def _frame_path():
    spec = importlib.util.spec_from_file_location("frame_path", REPO / "benchmarks" / "frame_path.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def fp():
    return _frame_path()


@pytest.fixture(scope="module")
def analyzer():
    from emotrace.pipeline import Analyzer

    return Analyzer()


def _check(trace) -> None:
    steady = trace.steady()
    assert steady, "no steady frame: the clip is too short for a second model group released before its end"
    for k in steady:
        path = trace.path(k)
        assert not path.climbs, (k, path.climbs)
        assert max(path.counts.values()) <= 2, (k, path.counts.most_common(3), path.where)
        assert "emotrace.sources.video" in path.counts and "emotrace.api" in path.counts  # the whole way was seen


def test_a_synthetic_clips_frames_enter_each_module_at_most_twice(fp, analyzer, tmp_path):
    clip = write_video(tmp_path / "astronaut.mp4", astronaut_frames(24), fps=10)
    _check(fp.trace_run(clip, analyzer, "all", max_frames=24))


@pytest.mark.slow
@needs_shared
@pytest.mark.parametrize("clip", ["short_hamilton_clip.mp4", "single_face.mp4"])
def test_a_real_clips_frames_enter_each_module_at_most_twice(fp, analyzer, clip):
    """Whole clips: shot cuts, several faces, faces that come and go, the look-ahead stage's held frames."""
    _check(fp.trace_run(MEDIA / clip, analyzer, "all", max_frames=600))


def test_the_tracer_sees_a_climb_and_a_third_entry(fp):
    """The counter itself: a call from a lower layer into a higher one is a climb, each entry is counted."""
    calls = [fp.Call("emotrace.api", "run", None, 1), fp.Call("emotrace.pipeline", "stream", 0, 2),
             fp.Call("emotrace.sinks.table", "write", 1, 3), fp.Call("emotrace.sinks.table", "write", 0, 4),
             fp.Call("emotrace.sinks.rows", "rows", 3, 5), fp.Call("emotrace.sinks.table", "write", 0, 6)]
    trace = fp.Trace(calls, [frozenset({0})] * len(calls), list(range(len(calls))),
                     {0: type("R", (), {"detected": True})()}, {0: 6}, 6, 1)
    path = trace.path(0)
    assert path.visits == ["emotrace.api", "emotrace.pipeline", "emotrace.sinks.table", "emotrace.sinks.table",
                           "emotrace.sinks.rows", "emotrace.sinks.table"]
    assert path.counts["emotrace.sinks.table"] == 3 and not path.ok
    assert path.climbs == ["emotrace.pipeline.stream (pipeline) -> emotrace.sinks.table.write (sinks)"]
