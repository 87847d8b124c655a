"""Issue 17, web app: warnings on jobs, non-ASCII download names, token before size, no server paths in results,
an OpenAPI schema that says what the server does (bounds, error bodies, status codes, Allow)."""

from __future__ import annotations

import io
import json
import zipfile
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
    archive = client.get(f"/api/v1/jobs/{job['id']}/archive")  # issue 24: every result in one zip
    assert archive.headers["content-type"] == "application/zip"
    assert archive.headers["content-disposition"].startswith("attachment; ")
    assert quote("ñandú café_results.zip") in archive.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert {"emotions.csv", "summary.json"} <= set(names) and not any("/" in n or "input" in n for n in names)
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


# Every operation of the schema as (method, path) -> (operationId, response codes with --token, parameters): the
# routes moved into module-level routers (issue 22) and this pins what clients and schemathesis see. Without a
# token the codes are the same less 401.
OPERATIONS = {
    ("get", "/api/v1/health"): ("health_api_v1_health_get", "200", ""),
    ("post", "/api/v1/jobs"): ("submit_api_v1_jobs_post", "202 400 401 403 408 413 415 422 503 507", ""),
    ("get", "/api/v1/jobs"): ("list_jobs_api_v1_jobs_get", "200 401 422", "query:limit query:offset query:q"),
    ("get", "/api/v1/jobs/{job_id}"): ("job_status_api_v1_jobs__job_id__get", "200 401 404 422", "path:job_id"),
    ("delete", "/api/v1/jobs/{job_id}"): ("delete_job_api_v1_jobs__job_id__delete", "204 401 403 404 422",
                                          "path:job_id"),
    ("get", "/api/v1/jobs/{job_id}/results/{fmt}"): ("result_api_v1_jobs__job_id__results__fmt__get",
                                                     "200 206 416 401 404 409 422", "path:fmt path:job_id"),
    ("get", "/api/v1/jobs/{job_id}/archive"): ("results_archive_api_v1_jobs__job_id__archive_get",
                                               "200 401 404 409 422", "path:job_id"),
    ("get", "/api/v1/jobs/{job_id}/timelines/{track_id}"): (
        "timeline_api_v1_jobs__job_id__timelines__track_id__get", "200 401 404 409 422", "path:track_id path:job_id"),
    ("get", "/api/v1/jobs/{job_id}/table"): ("table_api_v1_jobs__job_id__table_get", "200 401 404 409 422",
                                             "path:job_id query:offset query:limit"),
    ("get", "/api/v1/jobs/{job_id}/signals"): ("signals_api_v1_jobs__job_id__signals_get", "200 401 404 409 422",
                                               "path:job_id query:names"),
}


def _spec(tmp_path, token):
    from emotrace.web.app import create_app
    from emotrace.web.settings import ServerSettings

    return create_app(ServerSettings(data_dir=tmp_path / "data", token=token)).openapi()


@pytest.mark.parametrize("token", [TOKEN, None], ids=["token", "open"])
def test_schema_pins_every_operation(tmp_path, token):
    spec = _spec(tmp_path, token)
    seen = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            params = " ".join(f"{p['in']}:{p['name']}" for p in op.get("parameters", []))
            seen[(method, path)] = (op["operationId"], " ".join(op["responses"]), params)
            assert ("security" in op) == (token is not None and path != "/api/v1/health"), (method, path)
    expected = {k: (oid, codes if token else codes.replace(" 401", ""), params)
                for k, (oid, codes, params) in OPERATIONS.items()}
    assert seen == expected
    assert list(spec["paths"]) == list(dict.fromkeys(p for _, p in OPERATIONS))  # the order clients list them in
    schemas = spec["components"]["schemas"]
    assert set(schemas) == {"Body_submit_api_v1_jobs_post", "ErrorOut", "Health", "JobOut", "Progress", "TablePage",
                            "Timeline", "SignalSeries", "SignalTrack"}
    assert schemas["JobOut"]["required"] == [
        "id", "status", "filename", "kind", "media", "size_bytes", "created", "started", "finished", "progress",
        "queue_position", "processing_s", "error", "warnings", "signals", "results", "timelines", "tracks",
        "persons"]  # persons: added by issue 25 B (per-person results), a new field old clients ignore
    assert schemas["Body_submit_api_v1_jobs_post"]["required"] == ["file"]
    # Per-job face signals: an optional integer form field beside the upload (a bad one gets 400, declared), and
    # the job says what it got (null: a job stored before the field existed).
    from emotrace.web.schemas import MAX_SIGNALS

    assert list(schemas["Body_submit_api_v1_jobs_post"]["properties"]) == ["file", "signals"]
    asked = schemas["Body_submit_api_v1_jobs_post"]["properties"]["signals"]
    assert (asked["type"], asked["minimum"], asked["maximum"]) == ("integer", 0, MAX_SIGNALS)
    assert schemas["JobOut"]["properties"]["signals"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert "signals" in spec["paths"]["/api/v1/jobs"]["post"]["responses"]["400"]["description"]
    assert "job_defaults" in schemas["Health"]["required"]
    assert ("securitySchemes" in spec["components"]) == (token is not None)
    ops = spec["paths"]
    fmt, job_id = ops["/api/v1/jobs/{job_id}/results/{fmt}"]["get"]["parameters"]
    assert fmt["schema"]["enum"] == ["csv", "parquet", "jsonl", "json", "summary", "video", "image"]
    assert job_id["schema"]["pattern"] == "^[0-9a-f]{32}$"
    assert set(ops["/api/v1/jobs/{job_id}/results/{fmt}"]["get"]["responses"]["200"]["content"]) == {
        "application/json", "application/vnd.apache.parquet", "application/x-ndjson", "image/png", "text/csv",
        "video/mp4"}
    limit, offset, q = ops["/api/v1/jobs"]["get"]["parameters"]
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"], offset["schema"]["maximum"]) == (1, 500, 10**9)
    assert (q["schema"]["type"], q["schema"]["maxLength"], q["required"]) == ("string", 200, False)
    assert list(ops["/api/v1/jobs"]["post"]["requestBody"]["content"]) == ["multipart/form-data"]
    # Issue 24 (web 9): the upload is a non-empty binary of the media types the server recognises, and the job
    # list says its total; the submission links to every operation on the job (so fuzzers reach them all).
    from emotrace.web.security import ACCEPTED_MEDIA_TYPES

    form = ops["/api/v1/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert form["encoding"]["file"]["contentType"].split(", ") == list(ACCEPTED_MEDIA_TYPES)
    part = schemas["Body_submit_api_v1_jobs_post"]["properties"]["file"]
    assert (part["type"], part["format"], part["minLength"]) == ("string", "binary", 1)
    links = ops["/api/v1/jobs"]["post"]["responses"]["202"]["links"]
    on_job = {op["operationId"] for path, o in ops.items() if "{job_id}" in path for op in o.values()}
    assert {link["operationId"] for link in links.values()} == on_job
    assert all(link["parameters"] == {"job_id": "$response.body#/id"} for link in links.values())
    assert set(ops["/api/v1/jobs"]["get"]["responses"]["200"]["headers"]) == {"X-Total-Count"}
    if token:
        assert spec["components"]["securitySchemes"]["bearer"] == {
            "type": "http", "scheme": "bearer", "description": "the server's --token as `Authorization: Bearer TOKEN`"}


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")  # in-process calls
def test_apps_in_one_process_keep_their_own_state(tmp_path):
    """The routers are module-level; each app's settings and store come from its own `app.state`."""
    from starlette.testclient import TestClient

    from emotrace.web.app import create_app
    from emotrace.web.settings import ServerSettings

    apps = [create_app(ServerSettings(data_dir=tmp_path / "a", max_queue=3)),
            create_app(ServerSettings(data_dir=tmp_path / "b", max_queue=5, token=TOKEN))]
    a, b = (TestClient(app) for app in apps)  # no lifespan: no worker process is started
    assert a.get("/api/v1/health").json()["limits"]["max_queue"] == 3
    assert b.get("/api/v1/health").json()["limits"] == {**b.get("/api/v1/health").json()["limits"],
                                                         "max_queue": 5, "token_required": True}
    assert a.get("/api/v1/jobs").json() == []
    assert b.get("/api/v1/jobs").status_code == 401
    assert b.get("/api/v1/jobs", headers={"Authorization": f"Bearer {TOKEN}"}).json() == []
    missing = "/api/v1/jobs/" + "0" * 32
    assert a.get(missing).json() == {"detail": f"no job {'0' * 32}"}
    assert a.put(missing).headers["allow"] == "GET, DELETE"
    assert a.post("/live").headers["allow"] == "GET"  # the pages' router counts too
    page = a.get("/jobs/" + "0" * 32)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for app in apps:
        app.state.services.store.close()
