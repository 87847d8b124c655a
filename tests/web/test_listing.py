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
        assert {p["name"] for p in spec["parameters"]} == {"limit", "offset"}
    finally:
        store.close()
