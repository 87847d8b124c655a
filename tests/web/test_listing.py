"""Issue 24 (web 4): the job list is paged (`limit`, `offset`) and says how many jobs there are in all
(`X-Total-Count`), so the page can show a count and next/previous instead of only the latest 20."""

from __future__ import annotations

import pytest

from emotrace.web.store import Job


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")  # in-process calls
def test_job_list_pages_and_total(tmp_path):
    from starlette.testclient import TestClient

    from emotrace.web.app import create_app
    from emotrace.web.settings import ServerSettings

    app = create_app(ServerSettings(data_dir=tmp_path / "data", max_queue=50))
    store = app.state.services.store
    try:
        ids = []
        for i in range(25):
            job = Job(id=f"{i:032x}", status="failed", filename=f"clip{i}.mp4", kind="video", media="MP4",
                      input="input.mp4", size=10, created=1000.0 + i, error="cannot decode")
            store.add(job, max_queued=50)
            ids.append(job.id)
        assert store.total() == 25
        client = TestClient(app)  # no lifespan: no worker process is started
        first = client.get("/api/v1/jobs?limit=20")
        assert first.headers["x-total-count"] == "25"
        assert [j["id"] for j in first.json()] == ids[::-1][:20]  # newest first
        last = client.get("/api/v1/jobs?limit=20&offset=20")
        assert last.headers["x-total-count"] == "25" and [j["id"] for j in last.json()] == ids[::-1][20:]
        assert client.get("/api/v1/jobs?limit=20&offset=40").json() == []
        spec = app.openapi()["paths"]["/api/v1/jobs"]["get"]
        assert "X-Total-Count" in spec["responses"]["200"]["headers"]
        assert {p["name"] for p in spec["parameters"]} == {"limit", "offset", "q"}
    finally:
        store.close()


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_job_list_filters_by_file_name_any_case_with_wildcards_taken_literally(tmp_path):
    from starlette.testclient import TestClient

    from emotrace.web.app import create_app
    from emotrace.web.settings import ServerSettings

    app = create_app(ServerSettings(data_dir=tmp_path / "data", max_queue=50))
    store = app.state.services.store
    try:
        names = ["Interview_A.mp4", "interview_b.mov", "lecture.mp4", "100%_happy.jpg", "1000_happy.jpg"]
        for i, name in enumerate(names):
            store.add(Job(id=f"{i:032x}", status="done", filename=name, kind="video", media="MP4",
                          input="input.mp4", size=10, created=1000.0 + i), max_queued=50)
        client = TestClient(app)

        def found(q: str) -> tuple[list[str], str]:
            r = client.get("/api/v1/jobs", params={"q": q, "limit": 2})
            return [j["filename"] for j in r.json()], r.headers["x-total-count"]

        assert found("INTERVIEW") == (["interview_b.mov", "Interview_A.mp4"], "2")
        assert found("e_") == ([], "0")  # "_" is not a one-letter wildcard (it would match every name here)
        assert found("100%") == (["100%_happy.jpg"], "1")  # nor "%" any text
        assert found("nothing") == ([], "0")
        assert found("")[1] == "5"
    finally:
        store.close()
