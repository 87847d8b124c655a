import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from emotrace.api import build_sinks, run
from emotrace.pipeline import Analyzer
from emotrace.results import FrameResult
from emotrace.sinks import RunMeta, TableSink, VideoSink
from emotrace.types import Detections, Frame
from tests.helpers import astronaut_frames, ffmpeg

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def fake_result(i: int, faces: int) -> FrameResult:
    probs = np.full((faces, 7), 1 / 7, np.float32)
    d = Detections(boxes=np.tile(np.array([[10, 10, 60, 70]], np.float32), (faces, 1)),
                   scores=np.full(faces, 0.9, np.float32), track_id=np.arange(1, faces + 1),
                   frame_probs=probs, temporal_probs=probs)
    return FrameResult(Frame(i, i / 10, np.zeros((90, 121, 3), np.uint8)), d)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_tables_agree_and_list_faceless_frames(tmp_path, fmt):
    sink = TableSink(tmp_path / f"t.{fmt}", fmt, chunk_rows=2)
    sink.open(RunMeta("x", CLASSES, 10))
    for i, n in enumerate([2, 0, 1]):
        sink.write(fake_result(i, n))
    sink.close()
    df = {"csv": pd.read_csv, "parquet": pd.read_parquet,
          "jsonl": lambda p: pd.read_json(p, lines=True)}[fmt](tmp_path / f"t.{fmt}")
    assert len(df) == 4
    assert df["n_faces"].tolist() == [2, 2, 0, 1]
    assert pd.isna(df.loc[2, "track_id"]) and df.loc[3, "label"] == "angry"
    assert not list(tmp_path.glob(".*part*"))


def test_parquet_row_groups_hold_chunk_rows_and_match_the_csv(tmp_path, monkeypatch):
    """Parquet rows pass through small record batches into row groups of about `chunk_rows`, every value kept."""
    import pyarrow.parquet as pq

    import emotrace.sinks.table as table

    monkeypatch.setattr(table, "BATCH_ROWS", 3)
    sinks = [TableSink(tmp_path / "t.parquet", "parquet", chunk_rows=7), TableSink(tmp_path / "t.csv", "csv")]
    for s in sinks:
        s.open(RunMeta("x", CLASSES, 10))
    for i in range(12):
        res = fake_result(i, i % 3)
        for s in sinks:
            s.write(res)
    for s in sinks:
        s.close()
    meta = pq.ParquetFile(tmp_path / "t.parquet").metadata
    groups = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    # 16 rows (4 faceless frames, 12 faces) in groups of at least 7 (a frame's rows are never split)
    assert sum(groups) == 16 and len(groups) == 2 and groups[0] >= 7
    from emotrace.sinks import result_rows

    want = [r for i in range(12) for r in result_rows(fake_result(i, i % 3), CLASSES)]
    assert pq.read_table(tmp_path / "t.parquet").to_pylist() == want
    assert len(pd.read_csv(tmp_path / "t.csv")) == 16


def test_the_rows_of_a_frame_are_built_once_for_every_table_output():
    from emotrace.sinks import result_rows

    res, other = fake_result(0, 2), fake_result(0, 2)
    rows = result_rows(res, CLASSES)
    assert result_rows(res, CLASSES) is rows
    assert result_rows(other, CLASSES) is not rows and result_rows(other, CLASSES) == rows
    assert result_rows(res, CLASSES, with_va=True) is not rows  # another shape of row: built anew


def test_aborted_sinks_leave_no_file(tmp_path):
    sinks = build_sinks(tmp_path, ["csv", "parquet", "jsonl", "video", "summary", "timeline"])
    for s in sinks:
        s.open(RunMeta("x", CLASSES, 10))
        s.write(fake_result(0, 1))
        s.write(fake_result(1, 1))
    for s in sinks:
        s.abort()
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_run_leaves_no_partial_outputs(tmp_path):
    class Exploding:
        name, fps, frame_count, is_live = "boom", 10.0, None, False

        def __iter__(self):
            yield from (Frame(i, i / 10, f) for i, f in enumerate(astronaut_frames(4)))
            raise RuntimeError("decoder died")

        def close(self):
            pass

    from emotrace.sources.base import Source

    src = type("ExplodingSource", (Exploding, Source), {})()
    with pytest.raises(RuntimeError):
        run(src, Analyzer(batch_frames=2), build_sinks(tmp_path / "out", ["csv", "video", "summary"]))
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_video_is_browser_playable_h264_with_odd_sizes(tmp_path):
    sink = VideoSink(tmp_path / "a.mp4", fps=10)
    sink.open(RunMeta("x", CLASSES, 10))
    for i in range(5):
        sink.write(fake_result(i, 1))
    sink.close()
    info = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(tmp_path / "a.mp4")], capture_output=True, text=True)
    assert "h264" in info.stderr and "yuv420p" in info.stderr and "122x90" in info.stderr


@pytest.mark.parametrize(("cpus", "want"), [(1, 1), (2, 1), (3, 1), (4, 2), (16, 8)])
def test_the_encoder_leaves_half_the_cpus_to_the_pipeline(monkeypatch, cpus, want):
    import emotrace.sinks.video as video

    monkeypatch.setattr(video.os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    assert video.encoder_threads() == want
    assert VideoSink("x.mp4").threads == want and VideoSink("x.mp4", threads=3).threads == 3


def test_summary_counts_per_track(tmp_path):
    sinks = build_sinks(tmp_path, ["summary"])
    sinks[0].open(RunMeta("x", CLASSES, 10, analyzer={"temporal_stage": "ema"}))
    for i in range(3):
        sinks[0].write(fake_result(i, 2))
    sinks[0].close()
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["frames"] == 3 and [t["frames"] for t in s["tracks"]] == [3, 3]
    assert s["tracks"][0]["duration_s"] == pytest.approx(0.2)
