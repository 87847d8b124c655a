"""What clients see of a stored job: no server path in its error (issue 24, item 7)."""

from __future__ import annotations

from pathlib import Path

from emotrace.web.schemas import job_out, public_error
from emotrace.web.store import Job


def test_a_failed_jobs_error_names_the_upload_not_the_server_path(tmp_path):
    folder = tmp_path / "data" / "jobs" / ("a" * 32)
    stored = f"not a readable image or video (unknown format or corrupt): {folder / 'input.mp4'}"
    job = Job(id="a" * 32, status="failed", filename="my clip.mp4", kind="video", media="MP4/QuickTime video",
              input="input.mp4", size=10, created=0.0, error=stored)  # a row written before the fix
    assert public_error(job, folder) == "not a readable image or video (unknown format or corrupt): my clip.mp4"
    job.error = f"cannot write {folder / 'out' / 'annotated.part.mp4'}: disk full"
    assert public_error(job, folder) == "cannot write annotated.part.mp4: disk full"
    assert str(tmp_path) not in (job_out(job, folder / "out").error or "")
    job.error = None
    assert public_error(job, Path("/x")) is None
