"""Per-job face signals: the upload's `signals` field reaches the worker's analyzer config (the server's config with
only `signals` changed), the job row and its JSON say it, and bad values get a one-line 400."""

from __future__ import annotations

import io

import httpx
import pyarrow.parquet as pq
import pytest

from emotrace.analyzer_config import AnalyzerConfig
from emotrace.web.config import config_json, job_config
from tests.helpers import MEDIA, needs_shared
from tests.web.server import Server, wait_job

SERVER_SIGNALS = 2  # the server's default is on, so a job asking for 0 shows that its own choice wins


def test_a_job_config_is_the_servers_with_its_own_signals():
    base = {"detect_every": 3, "mask": "oval", "signals": SERVER_SIGNALS}
    assert job_config(base, 1) == AnalyzerConfig(**{**base, "signals": 1})
    assert job_config(base, 0) == AnalyzerConfig(**{**base, "signals": 0})
    assert job_config(base, None) == AnalyzerConfig(**base)  # a job stored before the choice: the server's setting
    assert job_config(AnalyzerConfig(**base), 5).detect_every == 3


def test_the_worker_keeps_an_analyzer_per_config(monkeypatch):
    # Jobs alternating between signals on and off reuse their analyzers; a third config closes the oldest.
    import emotrace.pipeline
    from emotrace.web.worker import Analyzers

    class Fake:
        def __init__(self, cfg: AnalyzerConfig) -> None:
            self.config, self.closed = cfg, False

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(emotrace.pipeline, "Analyzer", Fake)
    pool = Analyzers(keep=2)
    off, on = (pool.get(config_json({"signals": n})) for n in (0, 1))
    assert (off.config.signals, on.config.signals) == (0, 1)
    assert pool.get(config_json({"signals": 0})) is off and not off.closed
    five = pool.get(config_json({"signals": 5}))
    assert on.closed and not off.closed and five.config.signals == 5  # `on` was the least recently used


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("jobsignals") / "data", "--signals", str(SERVER_SIGNALS))
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            yield c
    finally:
        assert srv.stop(), srv.log()[-3000:]


def _columns(client: httpx.Client, job: dict) -> list[str]:
    data = client.get(job["results"]["parquet"]).content
    return list(pq.read_schema(io.BytesIO(data)).names)


@needs_shared
def test_each_job_gets_the_signals_it_asked_for(client):
    photo = (MEDIA / "single_face.jpg").read_bytes()
    assert client.get("/api/v1/health").json()["job_defaults"] == {"signals": SERVER_SIGNALS}
    jobs = {}
    for asked in ("1", "0", None):
        resp = client.post("/api/v1/jobs", files={"file": ("face.jpg", photo, "image/jpeg")},
                           data={} if asked is None else {"signals": asked})
        assert resp.status_code == 202, resp.text
        jobs[asked] = wait_job(client, resp.json()["id"])
    on, off, default = jobs["1"], jobs["0"], jobs[None]
    for job in (on, off, default):
        assert job["status"] == "done", job
    assert (on["signals"], off["signals"], default["signals"]) == (1, 0, SERVER_SIGNALS)
    assert "bs_jawOpen" in _columns(client, on) and "yaw" in _columns(client, on)
    assert not [c for c in _columns(client, off) if c.startswith("bs_") or c in ("yaw", "signals")]
    assert "bs_jawOpen" in _columns(client, default)  # left out: the server's setting
    assert client.get(f"/api/v1/jobs/{on['id']}/signals").status_code == 200
    assert client.get(f"/api/v1/jobs/{off['id']}/signals").status_code == 404
    listed = {j["id"]: j["signals"] for j in client.get("/api/v1/jobs").json()}
    assert listed[on["id"]] == 1 and listed[off["id"]] == 0


def test_bad_signals_values_get_a_one_line_400(client):
    before = client.get("/api/v1/jobs").headers["x-total-count"]
    photo = b"\xff\xd8\xff" + b"\0" * 64  # never read: the field is checked first
    for bad in ("-1", "abc", "1.5", "", " 3", "10001", "99999999999999999999999", "\uff13", "3\nx"):
        resp = client.post("/api/v1/jobs", files={"file": ("face.jpg", photo, "image/jpeg")}, data={"signals": bad})
        assert resp.status_code == 400, (bad, resp.text)
        detail = resp.json()["detail"]
        assert isinstance(detail, str) and "\n" not in detail and detail.startswith("signals must be"), detail
    twice = client.post("/api/v1/jobs", files=[("file", ("face.jpg", photo, "image/jpeg")), ("signals", (None, "1")),
                                                ("signals", (None, "5"))])
    assert twice.status_code == 400 and twice.json()["detail"] == "signals must be given once (got it 2 times)"
    as_file = client.post("/api/v1/jobs", files={"file": ("face.jpg", photo, "image/jpeg"), "signals": ("s", b"1")})
    assert as_file.status_code == 400 and as_file.json()["detail"].startswith("signals must be")
    assert client.get("/api/v1/jobs").headers["x-total-count"] == before  # no job was made
