"""The HTTP API and the live WebSocket against a real `emotrace serve` process on loopback."""

from __future__ import annotations

import io
import json

import cv2
import httpx
import pandas as pd
import pyarrow.parquet as pq
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from emotrace.labels import EMOTIONS
from tests.helpers import astronaut_frames, write_video
from tests.web.server import Server, wait_job


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    srv = Server(root / "data", "--max-upload-mb", "2", "--max-queue", "8")
    yield srv
    assert srv.stop(), srv.log()[-3000:]


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    return write_video(path, astronaut_frames(24), fps=12, codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"])


@pytest.fixture(scope="module")
def done_job(client, clip):
    resp = client.post("/api/v1/jobs", files={"file": ("clip.mp4", clip.read_bytes(), "video/mp4")})
    assert resp.status_code == 202, resp.text
    assert resp.headers["location"] == f"/api/v1/jobs/{resp.json()['id']}"
    job = wait_job(client, resp.json()["id"])
    assert job["status"] == "done", job
    return job


def jpeg(img) -> bytes:
    return cv2.imencode(".jpg", img)[1].tobytes()


def test_health_states_the_limits(client):
    h = client.get("/api/v1/health").json()
    assert h["status"] == "ok"
    assert h["limits"]["max_upload_bytes"] == 2 * 1024 * 1024
    assert h["limits"]["max_queue"] == 8
    assert h["limits"]["token_required"] is False


def test_openapi_schema_documents_the_versioned_api(client):
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/api/v1/jobs"]) == {"get", "post"}
    assert set(paths["/api/v1/jobs/{job_id}"]) == {"get", "delete"}
    assert "/api/v1/jobs/{job_id}/results/{fmt}" in paths
    assert "/api/v1/jobs/{job_id}/table" in paths
    assert "/api/v1/live" in spec["info"]["description"]  # the WebSocket protocol is described there
    assert all(p.startswith("/api/v1/") for p in paths)


def test_video_job_gives_every_format(client, done_job):
    job = done_job
    assert job["filename"] == "clip.mp4" and job["kind"] == "video"
    assert job["progress"]["frames_done"] == 24 and job["progress"]["fraction"] == 1.0
    assert set(job["results"]) == {"csv", "parquet", "jsonl", "json", "summary", "video"}
    csv = pd.read_csv(io.StringIO(client.get(job["results"]["csv"]).text))
    assert csv["frame"].nunique() == 24
    faces = csv.dropna(subset=["label"])
    assert len(faces) > 0 and set(faces["label"]) <= set(EMOTIONS)
    table = pq.read_table(io.BytesIO(client.get(job["results"]["parquet"]).content)).to_pandas()
    assert len(table) == len(csv)
    lines = client.get(job["results"]["jsonl"]).text.splitlines()
    array = client.get(job["results"]["json"]).json()
    assert len(lines) == len(array) == len(csv)
    assert array[0] == json.loads(lines[0])
    summary = client.get(job["results"]["summary"]).json()
    assert summary["frames"] == 24
    video = client.get(job["results"]["video"], headers={"Range": "bytes=0-15"})
    assert video.status_code == 206 and video.content[4:8] == b"ftyp"
    assert job["tracks"] and job["tracks"][0]["dominant_emotion"] in EMOTIONS
    # Per-person results (issue 25 B): every track inside one person, the person's brief as the summary's.
    assert sorted(t for p in job["persons"] for t in p["tracks"]) == [t["track_id"] for t in job["tracks"]]
    assert [p["person_id"] for p in job["persons"]] == [p["person_id"] for p in summary["persons"]]
    assert all(p["dominant_emotion"] in EMOTIONS and p["frames"] > 0 for p in job["persons"])
    assert job["timelines"]
    png = client.get(job["timelines"][0]["url"])
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"


def test_table_is_served_in_pages(client, done_job):
    base = f"/api/v1/jobs/{done_job['id']}/table"
    full = client.get(base, params={"limit": 1000}).json()
    page = client.get(base, params={"offset": 5, "limit": 4}).json()
    assert page["total"] == full["total"] == len(full["rows"])
    assert page["rows"] == full["rows"][5:9]
    assert page["columns"][:5] == ["file", "frame", "timestamp", "n_faces", "track_id"]
    bad = client.get(base, params={"limit": 0})
    assert bad.status_code == 422 and "limit" in bad.json()["detail"]


def test_listing_shows_the_job(client, done_job):
    ids = [j["id"] for j in client.get("/api/v1/jobs").json()]
    assert done_job["id"] in ids


def test_image_job(client):
    resp = client.post("/api/v1/jobs", files={"file": ("face.jpg", jpeg(astronaut_frames(1)[0]), "image/jpeg")})
    assert resp.status_code == 202
    job = wait_job(client, resp.json()["id"])
    assert job["status"] == "done" and job["kind"] == "image"
    assert job["progress"]["frames_done"] == 1


def test_non_media_empty_and_oversized_uploads_are_refused(client):
    text = client.post("/api/v1/jobs", files={"file": ("notes.mp4", b"just some text, not a video\n" * 40)})
    assert text.status_code == 415 and "not an image or video" in text.json()["detail"]
    empty = client.post("/api/v1/jobs", files={"file": ("empty.jpg", b"")})
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    big = client.post("/api/v1/jobs", files={"file": ("big.jpg", b"\xff\xd8\xff" + b"\0" * (3 * 1024 * 1024))})
    assert big.status_code == 413 and "2 MB" in big.json()["detail"]
    missing = client.post("/api/v1/jobs", data={"other": "x"})
    assert missing.status_code == 422 and "file" in missing.json()["detail"]


def test_oversized_upload_without_content_length_is_cut_off(client):
    boundary = "emotraceboundary"

    def chunks():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n"
               "Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8\xff"
        for _ in range(48):  # 3 MB, streamed (chunked transfer encoding: no Content-Length)
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    resp = client.post("/api/v1/jobs", content=chunks(),
                       headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert resp.status_code == 413


def test_uploaded_names_never_become_paths(client, server, clip):
    resp = client.post("/api/v1/jobs", files={"file": ("../../../escape.mp4", clip.read_bytes(), "video/mp4")})
    assert resp.status_code == 202
    job = resp.json()
    assert job["filename"] == "escape.mp4"
    assert not list(server.data_dir.parent.rglob("escape*"))
    assert (server.data_dir / "jobs" / job["id"] / "input.mp4").is_file()
    assert client.delete(f"/api/v1/jobs/{job['id']}").status_code == 204


def test_corrupt_video_fails_with_one_line_error(client, server):
    fake = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
    resp = client.post("/api/v1/jobs", files={"file": ("broken.mp4", fake, "video/mp4")})
    assert resp.status_code == 202
    job = wait_job(client, resp.json()["id"])
    assert job["status"] == "failed"
    assert job["error"] and "\n" not in job["error"] and "Traceback" not in job["error"]
    assert job["results"] == {}
    assert not list((server.data_dir / "jobs" / job["id"]).rglob("emotions*"))
    res = client.get(f"/api/v1/jobs/{job['id']}/results/csv")
    assert res.status_code == 409 and "failed" in res.json()["detail"]
    # Issue 24, item 7: every error text a client gets names the upload, never the server's file.
    table = client.get(f"/api/v1/jobs/{job['id']}/table")
    listed = next(j for j in client.get("/api/v1/jobs").json() if j["id"] == job["id"])
    for text in (job["error"], res.json()["detail"], table.json()["detail"], listed["error"]):
        assert "broken.mp4" in text and "input.mp4" not in text and str(server.data_dir) not in text, text


def test_delete_removes_job_and_files(client, server, clip):
    job = client.post("/api/v1/jobs", files={"file": ("d.mp4", clip.read_bytes(), "video/mp4")}).json()
    folder = server.data_dir / "jobs" / job["id"]
    assert folder.is_dir()
    assert client.delete(f"/api/v1/jobs/{job['id']}").status_code == 204
    assert client.get(f"/api/v1/jobs/{job['id']}").status_code == 404
    assert not folder.exists()
    assert client.delete(f"/api/v1/jobs/{job['id']}").status_code == 404


def test_unknown_and_malformed_ids(client):
    missing = client.get("/api/v1/jobs/" + "0" * 32)
    assert missing.status_code == 404 and missing.json()["detail"].startswith("no job")
    bad = client.get("/api/v1/jobs/..%2F..%2Fetc")
    assert bad.status_code in (404, 422)
    bad2 = client.get("/api/v1/jobs/not-an-id/results/csv")
    assert bad2.status_code == 422 and isinstance(bad2.json()["detail"], str)
    fmt = client.get("/api/v1/jobs/" + "0" * 32 + "/results/exe")
    assert fmt.status_code == 422


def test_cross_origin_writes_are_refused(client, clip):
    resp = client.post("/api/v1/jobs", files={"file": ("x.mp4", clip.read_bytes())},
                       headers={"Origin": "http://evil.example"})
    assert resp.status_code == 403
    assert "access-control-allow-origin" not in client.get("/api/v1/jobs",
                                                            headers={"Origin": "http://evil.example"}).headers


def test_pages_are_served_and_self_contained(client):
    for path in ("/", "/live", "/jobs/" + "0" * 32):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "http://" not in page.text and "https://" not in page.text  # no CDN: works offline
        assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/colors.js", "/static/common.js", "/static/live.js", "/static/style.css"):
        assert client.get(asset).status_code == 200


def test_live_socket_tracks_a_face(server):
    frames = astronaut_frames(12, size=(640, 480))
    with connect(server.ws_url) as ws:
        ready = json.loads(ws.recv())
        assert ready["type"] == "ready" and ready["classes"] == list(EMOTIONS)
        replies = []
        for img in frames:
            ws.send(jpeg(img))
            replies.append(json.loads(ws.recv()))
        ws.send(b"not an image")
        err = json.loads(ws.recv())
        ws.send(jpeg(frames[0]))
        after = json.loads(ws.recv())
    assert [r["seq"] for r in replies] == list(range(1, 13))
    assert all(r["type"] == "result" and (r["width"], r["height"]) == (640, 480) for r in replies)
    with_faces = [r for r in replies if r["faces"]]
    assert len(with_faces) >= 10
    ids = {f["track_id"] for r in with_faces for f in r["faces"]}
    assert len(ids) == 1  # one person, one track
    face = with_faces[-1]["faces"][0]
    x1, y1, x2, y2 = face["x1"], face["y1"], face["x2"], face["y2"]
    assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 480
    assert face["label"] in EMOTIONS and abs(sum(face[f"temporal_{c}"] for c in EMOTIONS) - 1) < 1e-2
    assert err["type"] == "error" and err["status"] == 400
    assert after["type"] == "result" and after["seq"] == 14  # the session went on after the bad frame


def test_live_socket_switches_face_signals_per_session(server):
    """The live page's choice: a config message gives this session its own face signals (the server runs without),
    a bad one is refused in one line and the session goes on as it was, null goes back to the server's."""
    frames = astronaut_frames(3, size=(640, 480))

    def faces(ws) -> list[dict]:
        out = []
        for img in frames:
            ws.send(jpeg(img))
            reply = json.loads(ws.recv())
            assert reply["type"] == "result"
            out += reply["faces"]
        return out

    with connect(server.ws_url) as ws:
        assert json.loads(ws.recv())["signals"] == 0  # the server's --signals
        assert not any("bs_jawOpen" in f for f in faces(ws))
        ws.send(json.dumps({"type": "config", "signals": 1}))
        ready = json.loads(ws.recv())
        assert ready["type"] == "ready" and ready["signals"] == 1 and ready["classes"] == list(EMOTIONS)
        measured = [f for f in faces(ws) if f["signals"] == "measured"]
        assert measured and all(0 <= f["bs_jawOpen"] <= 1 and isinstance(f["yaw"], float) for f in measured)
        for bad in ({"type": "config", "signals": "often"}, {"type": "config", "signals": -1}, {"type": "hello"}):
            ws.send(json.dumps(bad))
            err = json.loads(ws.recv())
            assert err["type"] == "error" and err["status"] == 400 and err["config"] is True, err
        assert all("bs_jawOpen" in f for f in faces(ws))  # still this session's setting
        ws.send(json.dumps({"type": "config", "signals": None}))
        assert json.loads(ws.recv())["signals"] == 0
        assert not any("bs_jawOpen" in f for f in faces(ws))


def test_live_socket_from_another_site_is_refused(server):
    with pytest.raises(InvalidStatus) as info:
        with connect(server.ws_url, origin="http://evil.example"):
            pass
    assert info.value.response.status_code == 403


def test_finished_jobs_survive_a_restart(tmp_path, clip):
    data = tmp_path / "data"
    first = Server(data)
    try:
        with httpx.Client(base_url=first.url, timeout=60) as c:
            job = wait_job(c, c.post("/api/v1/jobs", files={"file": ("keep.mp4", clip.read_bytes())}).json()["id"])
            csv = c.get(job["results"]["csv"]).content
    finally:
        assert first.stop(), first.log()[-3000:]
    assert job["status"] == "done"
    second = Server(data)
    try:
        with httpx.Client(base_url=second.url, timeout=60) as c:
            again = c.get(f"/api/v1/jobs/{job['id']}").json()
            assert again["status"] == "done" and again["results"] == job["results"]
            assert c.get(again["results"]["csv"]).content == csv
    finally:
        assert second.stop(), second.log()[-3000:]


def test_token_and_job_timeout(tmp_path):
    long_clip = write_video(tmp_path / "long.mp4", astronaut_frames(40) * 10, fps=25,
                            codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    srv = Server(tmp_path / "data", "--token", "s3cret", "--job-timeout", "0.3")
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            assert c.get("/api/v1/health").status_code == 200
            denied = c.get("/api/v1/jobs")
            assert denied.status_code == 401 and "token" in denied.json()["detail"]
            assert c.get("/api/v1/jobs", headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert c.get("/api/v1/jobs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
            assert c.get("/api/v1/jobs", params={"token": "s3cret"}).status_code == 200
            auth = {"Authorization": "Bearer s3cret"}
            resp = c.post("/api/v1/jobs", files={"file": ("long.mp4", long_clip.read_bytes())}, headers=auth)
            assert resp.status_code == 202
            c.headers.update(auth)
            job = wait_job(c, resp.json()["id"])
        assert job["status"] == "failed" and "timed out after 0.3 s" in job["error"]
        with connect(srv.ws_url) as ws:
            msg = json.loads(ws.recv())
            assert msg["status"] == 401
            with pytest.raises(ConnectionClosed):
                ws.recv()
            assert ws.close_code == 1008
        with connect(srv.ws_url + "?token=s3cret") as ws:
            assert json.loads(ws.recv())["type"] == "ready"
    finally:
        assert srv.stop()
    # Issue 24, item 1: addresses with ?token= (old clients) are logged without it.
    assert "s3cret" not in srv.log() and "token=***" in srv.log()
