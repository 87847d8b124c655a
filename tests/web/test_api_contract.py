"""Issue 17, web app: warnings on jobs, non-ASCII download names, token before size, no server paths in results,
an OpenAPI schema that says what the server does (bounds, error bodies, status codes, Allow)."""

from __future__ import annotations

import json
from urllib.parse import quote

import cv2
import httpx
import numpy as np
import pytest

from tests.helpers import astronaut_frames, write_video
from tests.web.server import Server, wait_job

TOKEN = "s3cret"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("contract") / "data", "--token", TOKEN, "--max-upload-mb", "1")
    yield srv
    assert srv.stop(), srv.log()[-3000:]


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def png(img) -> bytes:
    return cv2.imencode(".png", img)[1].tobytes()


def test_token_is_checked_before_the_size(server, client):
    big = {"file": ("big.jpg", b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024))}
    anonymous = httpx.post(server.url + "/api/v1/jobs", files=big, timeout=60)
    assert anonymous.status_code == 401 and "token" in anonymous.json()["detail"]
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert client.post("/api/v1/jobs", files=big).status_code == 413


def test_schema_is_open_and_says_so(server):
    resp = httpx.get(server.url + "/api/v1/openapi.json", timeout=60)
    assert resp.status_code == 200
    spec = resp.json()
    assert "/api/v1/openapi.json" in spec["info"]["description"]  # the text names the schema as open
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for code, resp in op["responses"].items():
                if int(code) >= 400:
                    assert resp["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
            if path == "/api/v1/health":
                assert "security" not in op
            else:
                assert op["security"] and "401" in op["responses"], (method, path)
    assert {"400", "413", "415", "503"} <= set(spec["paths"]["/api/v1/jobs"]["post"]["responses"])
    assert "404" in spec["paths"]["/api/v1/jobs/{job_id}"]["delete"]["responses"]
    assert httpx.get(server.url + "/api/v1/health", timeout=60).status_code == 200


def test_numbers_are_bounded_and_errors_are_one_string(client):
    for url in ("/api/v1/jobs?limit=141&offset=35593590903183605760", "/api/v1/jobs?offset=-1",
                "/api/v1/jobs/" + "0" * 32 + "/table?offset=99999999999999999999",
                "/api/v1/jobs/" + "0" * 32 + "/timelines/99999999999999999999"):
        resp = client.get(url)
        assert resp.status_code == 422, (url, resp.text)
        assert isinstance(resp.json()["detail"], str)


def test_method_not_allowed_lists_every_method_of_the_path(client):
    resp = client.put("/api/v1/jobs/" + "0" * 32)
    assert resp.status_code == 405
    assert {m.strip() for m in resp.headers["allow"].split(",")} >= {"GET", "DELETE"}
    assert isinstance(resp.json()["detail"], str)


def test_non_ascii_names_download_intact_and_no_server_paths(server, client):
    name = "ñandú café.png"
    resp = client.post("/api/v1/jobs", files={"file": (name, png(astronaut_frames(1)[0]), "image/png")})
    assert resp.status_code == 202
    assert resp.json()["queue_position"] in (1, 2, 3)
    job = wait_job(client, resp.json()["id"])
    assert job["status"] == "done" and job["warnings"] == [] and job["processing_s"] > 0
    csv = client.get(job["results"]["csv"])
    cd = csv.headers["content-disposition"]
    assert cd.startswith("attachment; ") and f"filename*=UTF-8''{quote('ñandú café_emotions.csv')}" in cd
    assert 'filename="' in cd and cd.split('filename="')[1].split('"')[0].isascii()
    summary = client.get(job["results"]["summary"])
    assert summary.json()["source"] == name
    assert str(server.data_dir) not in summary.text and "/jobs/" not in summary.text
    image = client.get(job["results"]["image"])  # an image job's result is an annotated image, not a 0:00 video
    assert image.headers["content-type"] == "image/png"
    decoded = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape[:2] == astronaut_frames(1)[0].shape[:2]


def test_no_face_and_truncated_uploads_finish_with_warnings(client, tmp_path):
    blank = np.full((240, 320, 3), 90, np.uint8)
    resp = client.post("/api/v1/jobs", files={"file": ("wall.png", png(blank), "image/png")})
    job = wait_job(client, resp.json()["id"])
    assert job["status"] == "done" and job["warnings"] == ["no face found in the image"]
    clip = write_video(tmp_path / "cut.mp4", astronaut_frames(40) * 2, fps=20,
                       codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"], extra=["-movflags", "+faststart"])
    data = clip.read_bytes()[: int(clip.stat().st_size * 0.6)]
    job = wait_job(client, client.post("/api/v1/jobs", files={"file": ("cut.mp4", data)}).json()["id"])
    assert job["status"] == "done", job
    assert any("decoding stopped at frame" in w for w in job["warnings"]), job
    summary = client.get(job["results"]["summary"]).json()
    assert summary["complete"] is False
    assert json.dumps(summary["incomplete_reason"]).count("decoding stopped") == 1
