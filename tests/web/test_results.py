"""Reading a finished job's files: formats, the JSON array stream, table pages across row groups."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from emotrace.web.results import available_formats, json_array, summary_tracks, table_page, timeline_tracks


def test_formats_and_timelines_from_output_names():
    outs = ["emotions.csv", "emotions.parquet", "summary.json", "timeline_track3.png", "timeline_track12.png",
            ".emotions.jsonl.part"]
    assert available_formats(outs) == ["csv", "parquet", "summary"]
    assert timeline_tracks(outs) == [3, 12]


def test_json_array_streams_json_lines(tmp_path):
    p = tmp_path / "rows.jsonl"
    rows = [{"frame": i, "label": "happy", "x": None} for i in range(5000)]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert json.loads(b"".join(json_array(p, chunk_rows=333))) == rows
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert json.loads(b"".join(json_array(empty))) == []


def test_table_pages_cross_row_groups(tmp_path):
    p = tmp_path / "t.parquet"
    tbl = pa.table({"frame": list(range(10)), "x1": [float("nan") if i == 4 else i / 2 for i in range(10)]})
    pq.write_table(tbl, p, row_group_size=3)
    page = table_page(p, offset=2, limit=5)
    assert page["total"] == 10 and page["columns"] == ["frame", "x1"]
    assert [r[0] for r in page["rows"]] == [2, 3, 4, 5, 6]
    assert page["rows"][2][1] is None  # NaN becomes null (valid JSON)
    assert table_page(p, offset=9, limit=100)["rows"] == [[9, 4.5]]
    assert table_page(p, offset=50, limit=10)["rows"] == []


def test_summary_tracks(tmp_path):
    s = tmp_path / "summary.json"
    assert summary_tracks(tmp_path) == []  # no summary written
    s.write_text(json.dumps({"tracks": [{"track_id": 1, "file": "a.mp4", "start_s": 0.0, "end_s": 1.0, "frames": 3,
                                         "dominant_emotion": "sad", "label_distribution": {},
                                         "mean_probabilities": {}}]}))
    assert summary_tracks(tmp_path) == [{"track_id": 1, "file": "a.mp4", "frames": 3, "start_s": 0.0, "end_s": 1.0,
                                         "dominant_emotion": "sad", "label_distribution": {}}]
    s.write_text("{not json")
    assert summary_tracks(tmp_path) == []


def test_archive_holds_every_output_once(tmp_path):
    """Issue 24 (suggestion): all of a job's results in one zip, built once; names only, never paths."""
    import zipfile

    from emotrace.web.results import ARCHIVE, archive

    out = tmp_path / "out"
    out.mkdir()
    (out / "emotions.csv").write_text("frame\n0\n")
    (out / "annotated.mp4").write_bytes(b"\0" * 100)
    (tmp_path / "input.mp4").write_bytes(b"secret upload")
    path = archive(out, ["emotions.csv", "annotated.mp4", "../input.mp4", "missing.json"])
    assert path == tmp_path / ARCHIVE
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["annotated.mp4", "emotions.csv"]
        assert zf.read("emotions.csv") == b"frame\n0\n"
        assert zf.getinfo("annotated.mp4").compress_type == zipfile.ZIP_STORED
    assert archive(out, []) == path  # built once
    assert not list(tmp_path.glob("*.part"))
