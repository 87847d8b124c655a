"""`emotrace batch` end to end: statuses and exit codes on a mixed folder, manifests, resume, integrity."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from emotrace.cli import main
from tests.batch import media
from tests.helpers import MEDIA, REPO, needs_shared


def batch(capsys, *args):
    code = main(["-q", "batch", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_mixed_folder_statuses_exit_code_and_collection_files(tmp_path, capsys):
    src = tmp_path / "study"
    vids = media.videos(src / "videos", 2)
    pics = media.photos(src / "photos", 3)
    bad = media.corrupt(src / "photos" / "broken.jpg")
    cut = media.truncated(src / "videos" / "cut.avi")
    (src / "notes.txt").write_text("not media, not an item")
    out = tmp_path / "out"
    code, stdout, err = batch(capsys, str(src), "-o", str(out), "--workers", "2")
    assert code == 3, err  # some items failed
    assert "7 items: 6 done, 1 failed, 0 skipped" in stdout and "1 incomplete" in stdout
    coll = pd.read_parquet(out / "collection.parquet").set_index("path")
    assert len(coll) == 7
    for p in vids + pics:
        assert coll.loc[str(p.resolve()), "status"] == "done"
        assert coll.loc[str(p.resolve()), "complete"]
    assert "not a readable image" in coll.loc[str(bad.resolve()), "reason"]
    assert coll.loc[str(cut.resolve()), "status"] == "done"  # a truncated video: its readable part, marked
    assert not coll.loc[str(cut.resolve()), "complete"]
    assert "truncated" in coll.loc[str(cut.resolve()), "incomplete_reason"]
    assert coll.loc[str(vids[1].resolve()), "frames"] == 13
    assert coll.loc[str(pics[0].resolve()), "frames"] == 1
    lines = [x for x in err.strip().splitlines() if not x.startswith("warning: ")]  # one per failed or incomplete item
    assert len(lines) == 2 and lines[0].startswith("failed: ") and "broken.jpg" in lines[0], err
    assert lines[1].startswith("incomplete: ") and "cut.avi" in lines[1], err
    # the rows dataset: one row per (item, frame, face); failed items have no rows
    rows = pd.read_parquet(out / "rows")
    assert set(rows["path"]) == {str(p.resolve()) for p in [*vids, *pics, cut]}
    assert rows.groupby("path").size()[str(vids[0].resolve())] >= 12
    assert (rows["file"] == rows["path"]).all()
    # per-item outputs: the same files `analyze` writes, and the record
    done = coll[coll["status"] == "done"]
    for item_id in done["item_id"]:
        names = {p.name for p in (out / "items" / item_id).iterdir()}
        assert names == {"emotions.csv", "summary.json", "item.json"}, names
    rec = json.loads((out / "items" / done["item_id"].iloc[0] / "item.json").read_text())
    assert rec["track_results"] and "label_distribution" in rec["track_results"][0]
    report = (out / "report.html").read_text()
    assert "Failed items (1)" in report and "broken.jpg" in report and "items/" in report
    assert "Incomplete items (1)" in report and "cut.avi" in report
    js = json.loads((out / "collection.json").read_text())
    assert len(js["items"]) == 7 and js["batch"]["provenance"]["command"]
    assert not [p for p in (out / "items").iterdir() if p.name.startswith(".")]
    # rerun: everything is skipped, failures stay failed; --retry-failed tries them again
    code, stdout, _ = batch(capsys, str(src), "-o", str(out), "--workers", "1")
    assert code == 3 and "0 done, 1 failed, 6 skipped" in stdout
    bad.unlink()
    cut.unlink()
    code, stdout, _ = batch(capsys, str(src), "-o", str(out), "--workers", "1", "--retry-failed", "--prune")
    assert code == 0 and "5 items: 0 done, 0 failed, 5 skipped" in stdout
    assert len(pd.read_parquet(out / "collection.parquet")) == 5


def test_manifest_metadata_reaches_every_row(tmp_path, capsys):
    vids = media.videos(tmp_path / "media", 2, frames=6)
    pic = media.photos(tmp_path / "media", 1)[0]
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"path": ["media/clip0.mp4", str(vids[1]), "media/photo0.jpg"], "subject": ["s01", "s02", "s03"],
                  "session": [1, 2, 3], "label": ["happy", "sad", "neutral"],
                  "status": ["x", "y", "z"]}).to_csv(manifest, index=False)  # 'status' is a collection column
    out = tmp_path / "out"
    code, _, err = batch(capsys, str(manifest), "-o", str(out), "--workers", "1", "--outputs", "parquet")
    assert code == 0, err
    rows = pd.read_parquet(out / "rows")
    assert {"subject", "session", "manifest_label"} <= set(rows.columns)  # 'label' is a result column
    by_path = rows.groupby("path")[["subject", "session", "manifest_label"]].first()
    assert by_path.loc[str(vids[0].resolve())].tolist() == ["s01", 1, "happy"]
    assert by_path.loc[str(pic.resolve())].tolist() == ["s03", 3, "neutral"]
    assert rows["session"].dtype == "int64"
    assert rows.groupby("path")["subject"].nunique().max() == 1
    coll = pd.read_parquet(out / "collection.parquet")
    assert sorted(coll["subject"]) == ["s01", "s02", "s03"]
    assert set(coll["status"]) == {"done"} and sorted(coll["manifest_status"]) == ["x", "y", "z"]
    item = coll.loc[coll["subject"] == "s02", "item_id"].iloc[0]
    assert {p.name for p in (out / "items" / item).iterdir()} == {"emotions.parquet", "item.json"}
    # changed metadata is a changed item: only that one is redone
    pd.DataFrame({"path": ["media/clip0.mp4", str(vids[1]), "media/photo0.jpg"], "subject": ["s01", "s02", "s99"],
                  "session": [1, 2, 3], "label": ["happy", "sad", "neutral"],
                  "status": ["x", "y", "z"]}).to_csv(manifest, index=False)  # 'status' is a collection column
    code, stdout, _ = batch(capsys, str(manifest), "-o", str(out), "--workers", "1", "--outputs", "parquet")
    assert code == 0 and "1 done, 0 failed, 2 skipped" in stdout
    assert "s99" in set(pd.read_parquet(out / "rows")["subject"])


def _published(out: Path) -> set[str]:
    """Items whose record and rows file are both in (a kill between the two renames leaves an item to redo)."""
    return {p.parent.name for p in out.glob("items/*/item.json")
            if (out / "rows" / f"{p.parent.name}.parquet").is_file()}


@pytest.mark.slow
def test_resume_after_kill_loses_only_items_in_flight(tmp_path, capsys):
    src = tmp_path / "videos"
    media.videos(src, 8, frames=40)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "emotrace.cli", "-q", "batch", str(src), "-o", str(out),
                             "--workers", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 900  # generous: a busy machine loads the models slowly
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(_published(out)) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the batch ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done_before = _published(out)
    assert 2 <= len(done_before) < 8
    records_before = {p.parent.name for p in out.glob("items/*/item.json")}
    time.sleep(1.0)  # the workers die with the batch process (no orphan keeps writing)
    assert {p.parent.name for p in out.glob("items/*/item.json")} == records_before
    assert _published(out) == done_before
    code, stdout, err = batch(capsys, str(src), "-o", str(out), "--workers", "1")
    assert code == 0, err
    assert f"8 items: {8 - len(done_before)} done, 0 failed, {len(done_before)} skipped" in stdout
    leftovers = [p for p in list(out.glob("items/.*")) + list(out.glob("rows/.*"))]
    assert not leftovers
    rows = pd.read_parquet(out / "rows")
    coll = pd.read_parquet(out / "collection.parquet")
    assert (coll["status"] == "done").all()
    assert rows.groupby("item_id").size().sort_index().tolist() == coll.set_index("item_id")["frames"].sort_index(
    ).tolist()  # one face per frame: the dataset and the records agree item by item


def test_rerun_key_is_content_and_settings(tmp_path, capsys):
    pics = media.photos(tmp_path / "pics", 3)
    out = tmp_path / "out"
    args = [str(tmp_path / "pics"), "-o", str(out), "--workers", "1", "--outputs", "summary"]
    assert batch(capsys, *args)[0] == 0
    first = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("items/*/item.json")}
    os.utime(pics[0], ns=(time.time_ns(), time.time_ns() + 5_000_000_000))  # same bytes, new time: not redone
    media.photos(tmp_path / "new", 4)[3].replace(pics[1])  # new bytes (no other photo's): redone
    code, stdout, _ = batch(capsys, *args)
    assert code == 0 and "1 done, 0 failed, 2 skipped" in stdout, stdout
    code, stdout, _ = batch(capsys, *args)
    assert "0 done, 0 failed, 3 skipped" in stdout  # the new file time was remembered
    code, stdout, _ = batch(capsys, *args, "--detect-every", "2")  # other settings: everything again
    assert code == 0 and "3 done, 0 failed, 0 skipped" in stdout
    assert set(first) == {p.parent.name for p in out.glob("items/*/item.json")}


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "m.csv").write_text("file,subject\na.mp4,s1\n")
    code, _, err = batch(capsys, str(tmp_path / "m.csv"), "-o", str(tmp_path / "out"))
    assert code == 2 and err.strip().count("\n") == 0 and "no 'path' column" in err
    code, _, err = batch(capsys, str(tmp_path / "nothing*.mp4"), "-o", str(tmp_path / "out"))
    assert code == 2 and "no glob match" in err
    code, _, err = batch(capsys, str(tmp_path), "-o", str(tmp_path / "out"), "--outputs", "csv,pdf")
    assert code == 2 and "unknown output 'pdf'" in err
    code, _, err = batch(capsys, str(tmp_path), "-o", str(tmp_path / "out"), "--workers", "0")
    assert code == 2 and "--workers" in err


def test_missing_ray_is_a_clear_message(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    media.photos(tmp_path / "pics", 1)
    code, _, err = batch(capsys, str(tmp_path / "pics"), "-o", str(tmp_path / "out"), "--engine", "ray")
    assert code == 2 and 'pip install "emotrace[ray]"' in err
    assert not (tmp_path / "out").exists()


@needs_shared
def test_a_truncated_video_keeps_its_readable_part_as_analyze_does(tmp_path, capsys):
    cut = media.truncated_copy(MEDIA / "single_face.mp4", tmp_path / "study" / "cut.mp4")
    out = tmp_path / "out"
    code, stdout, err = batch(capsys, str(tmp_path / "study"), "-o", str(out), "--workers", "1",
                              "--outputs", "csv,summary")
    assert code == 0, err  # done, not failed
    assert "1 done, 0 failed" in stdout and "1 incomplete" in stdout
    assert err.strip().startswith(f"incomplete: {cut.resolve()}: decoding stopped at frame "), err
    assert err.strip().count("\n") == 0, err
    rec = pd.read_parquet(out / "collection.parquet").iloc[0]
    assert rec["status"] == "done" and not rec["complete"] and rec["reason"] is None
    assert rec["incomplete_reason"].startswith("decoding stopped at frame ")
    # the same frames, rows and reason as `analyze` on the same file
    assert main(["-q", "analyze", str(cut), "-o", str(tmp_path / "one"), "--outputs", "csv,summary"]) == 0
    capsys.readouterr()
    summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert summary["complete"] is False and summary["incomplete_reason"] == rec["incomplete_reason"]
    assert 0 < rec["frames"] == summary["frames"]
    rows = pd.read_parquet(out / "rows")
    assert len(rows) == len(pd.read_csv(tmp_path / "one" / "emotions.csv"))
    assert rows["frame"].nunique() == rec["frames"]
    item = json.loads((out / "items" / rec["item_id"] / "item.json").read_text())
    assert item["complete"] is False and item["incomplete_reason"] == rec["incomplete_reason"]
    report = (out / "report.html").read_text()
    assert "Incomplete items (1)" in report and "decoding stopped at frame" in report
    code, stdout, _ = batch(capsys, str(tmp_path / "study"), "-o", str(out), "--workers", "1",
                            "--outputs", "csv,summary")
    assert code == 0 and "0 done, 0 failed, 1 skipped" in stdout  # a result like any other: not redone


def _closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_ray_address_with_nothing_there_fails_at_once(tmp_path, capsys, monkeypatch):
    pytest.importorskip("ray", reason="Ray is not installed")
    from emotrace.batch import engines

    monkeypatch.setattr(engines, "ADDRESS_TIMEOUT_S", 1.0)  # (refused at once on 127.0.0.1 anyway)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    media.photos(tmp_path / "pics", 1)
    port = _closed_port()
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        code, _, err = batch(capsys, str(tmp_path / "pics"), "-o", str(tmp_path / "out"), "--engine", "ray",
                             "--address", address)
        assert code == 2 and err.strip().count("\n") == 0, err
        assert f"no Ray cluster answers at 127.0.0.1:{port} (connection refused)" in err
        assert not (tmp_path / "out").exists()
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")  # what ray.init would join when --address is auto
    code, _, err = batch(capsys, str(tmp_path / "pics"), "-o", str(tmp_path / "out"), "--engine", "ray",
                         "--address", "auto")
    assert code == 2 and "no Ray cluster answers" in err
    code, _, err = batch(capsys, str(tmp_path / "pics"), "-o", str(tmp_path / "out"), "--engine", "ray",
                         "--address", "127.0.0.1:notaport")
    assert code == 2 and "not host:port" in err


def test_photos_never_share_a_track(tmp_path):
    import emotrace
    from emotrace.pipeline import Analyzer

    media.photos(tmp_path / "pics", 4)
    an = Analyzer()
    df = emotrace.analyze(str(tmp_path / "pics"), analyzer=an)
    faces = df.dropna(subset=["track_id"])
    assert len(faces) == 4 and faces["file"].nunique() == 4
    assert faces.groupby("track_id")["file"].nunique().max() == 1  # each track on one photo
    assert faces["track_id"].is_unique
    classes = an.classes
    for c in classes:  # no temporal state across photos: the temporal columns are the frame model's
        assert (faces[f"temporal_{c}"] == faces[f"frame_{c}"]).all()
    seq = emotrace.analyze(str(tmp_path / "pics"), analyzer=an, sequence=True)
    assert seq.dropna(subset=["track_id"])["track_id"].nunique() == 1  # one person across a real sequence


def _children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cmd = (stat.parent / "cmdline").read_bytes() if (stat.parent / "cmdline").exists() else b""
        if int(fields[1]) == pid and b"spawn_main" in cmd:  # pool workers, not the resource tracker
            out.append(int(stat.parent.name))
    return out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_a_worker_killed_mid_item_costs_no_item(tmp_path, caplog):
    from emotrace.analyzer_config import AnalyzerConfig
    from emotrace.batch import BatchOptions, run_batch

    src = tmp_path / "videos"
    media.videos(src, 6, frames=40)
    out = tmp_path / "out"
    killed = []

    def killer():
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not killed:
            kids = _children(os.getpid())
            if len(kids) >= 2 and list(out.glob("items/.*.partial")) and list(out.glob("items/*/item.json")):
                os.kill(kids[-1], signal.SIGKILL)
                killed.append(kids[-1])
            time.sleep(0.05)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    res = run_batch(BatchOptions(inputs=[str(src)], out=str(out), workers=2, progress=False), AnalyzerConfig())
    t.join(timeout=5)
    assert killed, "no worker was seen busy"
    assert "a worker died" in caplog.text  # the pool broke and the items in flight ran again
    assert res.exit_code == 0 and res.done == 6 and res.failed == 0, res.line()
    assert len(pd.read_parquet(out / "collection.parquet")) == 6
    assert not list(out.glob("items/.*")) + list(out.glob("rows/.*"))  # the dead worker's scratch is gone


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_worker_that_cannot_start_stops_the_batch_with_one_line(tmp_path, capsys, workers):
    media.photos(tmp_path / "pics", 2)
    code, _, err = batch(capsys, str(tmp_path / "pics"), "-o", str(tmp_path / "out"), "--workers", workers,
                         "--frame-model", "no-such-model")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "a worker could not start" in err and "no-such-model" in err
    assert json.loads((tmp_path / "out" / "collection.json").read_text())["items"] == []  # nothing half done


def test_analyze_folder_rows_name_their_photos_and_sequence_needs_a_folder(tmp_path, capsys):
    pics = media.photos(tmp_path / "pics", 2)
    assert main(["-q", "analyze", str(tmp_path / "pics"), "-o", str(tmp_path / "out"), "--outputs", "csv"]) == 0
    df = pd.read_csv(tmp_path / "out" / "emotions.csv")
    assert sorted(df["file"]) == sorted(str(p) for p in pics)
    code = main(["-q", "analyze", str(pics[0]), "-o", str(tmp_path / "o2"), "--sequence"])
    assert code == 2 and "--sequence is for a folder" in capsys.readouterr().err


def test_globs_and_parquet_manifests(tmp_path, capsys):
    pics = media.photos(tmp_path / "a" / "b", 2)
    media.videos(tmp_path / "a", 1, frames=5)
    code, stdout, _ = batch(capsys, str(tmp_path / "a" / "**" / "*.jpg"), "-o", str(tmp_path / "out1"),
                            "--workers", "1")
    assert code == 0 and "2 items: 2 done" in stdout  # the glob reaches into subfolders, and takes only photos
    manifest = tmp_path / "m.parquet"
    pd.DataFrame({"path": [str(p) for p in pics], "score": [0.5, None]}).to_parquet(manifest)
    code, stdout, _ = batch(capsys, str(manifest), "-o", str(tmp_path / "out2"), "--workers", "1")
    assert code == 0 and "2 items: 2 done" in stdout
    rows = pd.read_parquet(tmp_path / "out2" / "rows").set_index("path")
    assert rows.loc[str(pics[0].resolve()), "score"] == 0.5 and pd.isna(rows.loc[str(pics[1].resolve()), "score"])


def test_an_output_folder_inside_the_input_is_not_an_input(tmp_path, capsys):
    media.photos(tmp_path / "study", 2)
    args = [str(tmp_path / "study"), "-o", str(tmp_path / "study" / "results"), "--workers", "1",
            "--outputs", "csv,video"]
    code, stdout, _ = batch(capsys, *args)
    assert code == 0 and "2 items: 2 done" in stdout
    assert list((tmp_path / "study" / "results").rglob("annotated.mp4"))
    code, stdout, _ = batch(capsys, *args)
    assert code == 0 and "2 items: 0 done, 0 failed, 2 skipped" in stdout  # its videos are not new items


def test_a_failure_reason_does_not_repeat_the_path(tmp_path, capsys):
    empty = tmp_path / "pics" / "zero_byte.jpg"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    bad = media.corrupt(tmp_path / "pics" / "broken.jpg")
    out = tmp_path / "out"
    code, _, err = batch(capsys, str(tmp_path / "pics"), "-o", str(out), "--workers", "1")
    assert code == 3
    coll = pd.read_parquet(out / "collection.parquet").set_index("path")
    assert coll.loc[str(empty.resolve()), "reason"] == "file is empty"
    assert str(bad.resolve()) not in coll.loc[str(bad.resolve()), "reason"]
    assert f"failed: {empty.resolve()}: file is empty\n" in err
    assert all(line.count(str(tmp_path)) == 1 for line in err.splitlines()), err


def test_one_photo_under_three_names_is_analysed_and_counted_once(tmp_path, capsys):
    import shutil

    pics = media.photos(tmp_path / "study" / "a", 2)
    copies = [tmp_path / "study" / "b" / "same.jpg", tmp_path / "study" / "c" / "again.jpg"]
    for c in copies:
        c.parent.mkdir(parents=True)
        shutil.copy(pics[0], c)
    out = tmp_path / "out"
    args = [str(tmp_path / "study"), "-o", str(out), "--workers", "1"]
    code, stdout, _ = batch(capsys, *args)
    assert code == 0 and "4 items: 2 done" in stdout and "2 duplicate(s)" in stdout, stdout
    coll = pd.read_parquet(out / "collection.parquet").set_index("path")
    first = coll.loc[str(pics[0].resolve())]
    assert first["status"] == "done" and first["complete"] and pd.isna(first["duplicate_of"])
    for c in copies:
        row = coll.loc[str(c.resolve())]
        assert row["status"] == "duplicate" and row["duplicate_of"] == first["item_id"]
        assert row["content_sha256"] == first["content_sha256"] and row["source_folder"] == str(c.parent.resolve())
    assert coll.loc[str(pics[1].resolve()), "content_sha256"] != first["content_sha256"]
    rows = pd.read_parquet(out / "rows")
    assert set(rows["path"]) == {str(pics[0].resolve()), str(pics[1].resolve())}  # the content's rows, once
    assert not (out / "items" / coll.loc[str(copies[0].resolve()), "item_id"] / "emotions.csv").exists()
    report = (out / "report.html").read_text()
    assert "Duplicates (2)" in report and "same.jpg" in report and "counts once" in report
    code, stdout, _ = batch(capsys, *args)  # a rerun: nothing analysed, the copies stay copies
    assert code == 0 and "0 done, 0 failed, 2 skipped" in stdout and "2 duplicate(s)" in stdout, stdout
    pics[0].unlink()  # the analysed copy is gone: the next one is analysed in its place
    code, stdout, _ = batch(capsys, *args, "--prune")
    assert code == 0 and "3 items: 1 done" in stdout and "1 duplicate(s)" in stdout, stdout
    coll = pd.read_parquet(out / "collection.parquet").set_index("path")
    assert coll.loc[str(copies[0].resolve()), "status"] == "done"
    assert coll.loc[str(copies[1].resolve()), "duplicate_of"] == coll.loc[str(copies[0].resolve()), "item_id"]


def test_adding_a_table_format_writes_it_from_the_stored_rows(tmp_path, capsys):
    media.photos(tmp_path / "pics", 2)
    media.videos(tmp_path / "pics", 1)
    out = tmp_path / "out"
    args = [str(tmp_path / "pics"), "-o", str(out), "--workers", "1"]
    assert batch(capsys, *args, "--outputs", "csv,summary")[0] == 0
    code, stdout, _ = batch(capsys, *args, "--outputs", "csv,summary,parquet,jsonl")
    assert code == 0 and "0 done, 0 failed, 0 skipped" in stdout and "3 given new table outputs" in stdout, stdout
    fresh = tmp_path / "fresh"  # what analysing them with those outputs from the start writes
    assert batch(capsys, str(tmp_path / "pics"), "-o", str(fresh), "--workers", "1", "--outputs",
                 "csv,summary,parquet,jsonl")[0] == 0
    for item in (out / "items").iterdir():
        for name in ("emotions.csv", "emotions.parquet", "emotions.jsonl"):
            assert (item / name).is_file(), name
        assert (item / "emotions.jsonl").read_text() == (fresh / "items" / item.name / "emotions.jsonl").read_text()
        pd.testing.assert_frame_equal(pd.read_parquet(item / "emotions.parquet"),
                                      pd.read_parquet(fresh / "items" / item.name / "emotions.parquet"))
        rec = json.loads((item / "item.json").read_text())
        assert "emotions.parquet" in rec["outputs"] and "parquet" in rec["output_names"]
    code, stdout, _ = batch(capsys, *args, "--outputs", "csv,parquet")  # fewer outputs: nothing to do
    assert "0 done, 0 failed, 3 skipped" in stdout, stdout
    code, stdout, _ = batch(capsys, *args, "--outputs", "csv,timeline")  # a chart needs the analysis again
    assert code == 0 and "3 done, 0 failed, 0 skipped" in stdout, stdout
