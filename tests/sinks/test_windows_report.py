"""Long videos stay readable: windowed timelines sized to the duration, and the interactive HTML report."""

import json
import re

import numpy as np
import pytest

from emotrace.outputs import OUTPUTS
from emotrace.results import FrameResult
from emotrace.sinks import ReportSink, RunMeta, TimelineSink
from emotrace.sinks.windows import window_size, windows
from emotrace.types import Detections, Frame

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
IMG = np.zeros((8, 8, 3), np.uint8)


def one_face(i: int, fps: float, k: int) -> FrameResult:
    p = np.full((1, 7), 0.02, np.float32)
    p[0, k] = 0.88
    d = Detections(boxes=np.array([[1, 1, 6, 6]], np.float32), scores=np.ones(1, np.float32),
                   track_id=np.array([1]), frame_probs=p, temporal_probs=p)
    return FrameResult(Frame(i, i / fps, IMG, source="long.mp4"), d)


def test_windows_are_sized_to_the_duration():
    assert window_size(30 * 60) == 10  # 30 minutes -> 180 windows of 10 s
    assert window_size(10) == 0.1
    t = np.arange(0, 1800, 1 / 30)
    probs = np.zeros((len(t), 7))
    probs[:, 3] = t < 900  # happy for the first half, sad after
    probs[:, 4] = t >= 900
    w = windows(t, probs)
    assert len(w.start) == 180 and w.width_s == 10
    assert np.allclose(w.shares.sum(1), 1)
    assert (w.dominant[:90] == 3).all() and (w.dominant[90:] == 4).all()
    assert w.frames.sum() == len(t)


def test_windows_leave_gaps_empty():
    t = np.r_[np.arange(0, 10, 0.1), np.arange(50, 60, 0.1)]
    w = windows(t, np.tile(np.eye(7)[0], (len(t), 1)), max_windows=60)
    empty = w.frames == 0
    assert empty.any() and np.isnan(w.shares[empty]).all() and (w.dominant[empty] == -1).all()


@pytest.fixture
def long_run():
    fps, n = 10.0, 3000  # five minutes: far more points than fit as lines
    return [one_face(i, fps, 3 if i < n // 2 else 6) for i in range(n)]


def test_long_track_timeline_is_windowed(tmp_path, long_run):
    sink = TimelineSink(tmp_path, OUTPUTS["timeline"].file)
    sink.open(RunMeta("long.mp4", CLASSES, 10.0, analyzer={"temporal_stage": "ema"}))
    drawn = {}

    def spy(ax, ax2, tid, t, p):
        drawn[tid] = len(t)
        TimelineSink._windowed(sink, ax, ax2, tid, t, p)
        drawn["title"] = ax.get_title()

    sink._windowed = spy
    for r in long_run:
        sink.write(r)
    files = sink.close()
    assert [f.name for f in files] == ["timeline_track1.png"] and drawn[1] == 3000
    assert "share per 1 s window" in drawn["title"]
    assert files[0].stat().st_size > 5000


def test_report_has_an_interactive_timeline_per_track(tmp_path, long_run):
    sink = ReportSink(tmp_path / "report.html")
    sink.open(RunMeta("long.mp4", CLASSES, 10.0, analyzer={"temporal_stage": "ema"},
                      provenance={"command": "emotrace analyze long.mp4 -o out", "commit": "abc"}))
    for r in long_run:
        sink.write(r)
    sink.close()
    page = (tmp_path / "report.html").read_text()
    assert "<canvas id='c1'>" in page and "wheel" in page and "dblclick" in page
    assert "http://" not in page and "https://" not in page  # self-contained
    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1))
    tr = data["tracks"][0]
    assert tr["frames"] == 3000 and tr["label"] in ("happy", "neutral")
    assert len(tr["shares"]) <= 2000 and len(tr["shares"]) == len(tr["dominant"])
    assert tr["dominant"][0] == 3 and tr["dominant"][-1] == 6
    assert "emotrace analyze long.mp4 -o out" in page


def test_long_timeline_reads_as_a_clock_with_the_legend_beside_the_chart(tmp_path, long_run):
    from emotrace.sinks.timeline import clock

    assert (clock(75.4, 300), clock(3725, 4000), clock(12.5, 30)) == ("1:15", "1:02:05", "12.5")
    sink = TimelineSink(tmp_path, OUTPUTS["timeline"].file)
    sink.open(RunMeta("long.mp4", CLASSES, 10.0, analyzer={"temporal_stage": "ema"}))
    seen = {}

    def spy(fig, tid):
        ax, ax2 = fig.axes
        fig.canvas.draw()
        seen["xlabel"] = ax2.get_xlabel()
        lo, hi = ax2.get_xlim()
        seen["ticks"] = [t.get_text() for t in ax2.get_xticklabels() if lo <= t.get_position()[0] <= hi]
        legend = ax.get_legend().get_window_extent()
        seen["legend_outside"] = legend.x0 >= ax.get_window_extent().x1
        seen["xlim"] = ax2.get_xlim()
        TimelineSink._save(sink, fig, tid)

    sink._save = spy
    for r in long_run:
        sink.write(r)
    sink.close()
    assert seen["xlabel"] == "time (m:ss)" and seen["legend_outside"]
    assert seen["ticks"] == ["0:00", "0:30", "1:00", "1:30", "2:00", "2:30", "3:00", "3:30", "4:00", "4:30"]
    assert seen["xlim"] == pytest.approx((0.0, 299.9))  # the track's own span, not the window grid's


def test_report_links_the_runs_files_gives_the_true_end_and_says_how_to_zoom(tmp_path, long_run):
    from emotrace.outputs import build_sinks

    sinks = build_sinks(tmp_path, ["csv", "video", "timeline", "summary", "report"])
    report = next(s for s in sinks if isinstance(s, ReportSink))
    report.open(RunMeta("long.mp4", CLASSES, 10.0, analyzer={"temporal_stage": "ema"},
                        provenance={"command": "emotrace analyze long.mp4 -o out", "commit": "abc"}))
    for r in long_run[:2000]:
        report.write(r)
    report.close()
    page = (tmp_path / "report.html").read_text()
    for href in ("emotions.csv", "annotated.mp4", "summary.json", "timeline_track1.png"):
        assert f"href='{href}'" in page
    assert "href='report.html'" not in page
    assert "wheel zooms" in page and "double click" in page
    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1))
    assert data["tracks"][0]["end"] == pytest.approx(199.9)  # the chart's end is the track's, not a window's edge
    assert "function clock(" in page
