"""The media fuzz test (issue 17): real media mutated as files get damaged in the wild (cut at random points,
flipped bytes, wrong extensions, zero-length streams), through `emotrace analyze` and through the upload API.
Whatever the damage: never a traceback, never a partial output, always a one-line reason. Seeded and bounded.

The command-line cases run in one child process (`python -m tests.test_fuzz_media CASES.json`), so the models
load once and a decoder crash would show as that child's death, not take pytest down.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pandas as pd
import pytest

from tests.helpers import MEDIA, REPO, astronaut_frames, ffmpeg, write_video

SEED = 17
H264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
OUTPUTS = {"emotions.csv", "emotions.parquet", "emotions.jsonl", "annotated.mp4", "summary.json"}


def _bases(root: Path) -> list[Path]:
    """Undamaged media: the public-domain astronaut photo as stills and clips in three containers, plus the real
    videos and photos of ../shared/media where present."""
    root.mkdir(parents=True, exist_ok=True)
    frames = astronaut_frames(30)
    cv2.imwrite(str(root / "face.jpg"), frames[0])
    cv2.imwrite(str(root / "face.png"), frames[3])
    bases = [root / "face.jpg", root / "face.png",
             write_video(root / "clip.mp4", frames, fps=15, codec=H264),
             write_video(root / "fast.mp4", frames, fps=15, codec=H264, extra=["-movflags", "+faststart"]),
             write_video(root / "clip.avi", frames, fps=15, codec=["-c:v", "mjpeg"]),
             write_video(root / "clip.mkv", frames, fps=15, codec=H264)]
    for name in ("single_face.mp4", "two_people.jpg"):
        if (MEDIA / name).is_file():
            bases.append(Path(shutil.copy(MEDIA / name, root / name)))
    return bases


def make_cases(root: Path, seed: int = SEED) -> list[Path]:
    """Every damaged file, named after what was done to it."""
    rng = random.Random(seed)
    cases: list[Path] = []
    for base in _bases(root / "bases"):
        data = base.read_bytes()
        stem, ext = base.stem, base.suffix
        for k in range(2):  # cut at random points
            cut = rng.randint(1, len(data) - 1)
            cases.append(root / f"{stem}-cut{k}-{cut}{ext}")
            cases[-1].write_bytes(data[:cut])
        flipped = bytearray(data)  # a burst of random bytes somewhere past the header
        at = rng.randint(min(64, len(data) - 1), len(data) - 1)
        for i in range(at, min(len(data), at + rng.randint(8, 4096))):
            flipped[i] = rng.randrange(256)
        cases.append(root / f"{stem}-burst{at}{ext}")
        cases[-1].write_bytes(bytes(flipped))
        header = bytearray(data)  # the header hit
        for i in rng.sample(range(min(64, len(data))), 6):
            header[i] ^= 0xFF
        cases.append(root / f"{stem}-header{ext}")
        cases[-1].write_bytes(bytes(header))
        wrong = {".jpg": ".mp4", ".png": ".avi", ".mp4": ".jpg", ".avi": ".png", ".mkv": ".gif"}.get(ext, ".txt")
        cases.append(root / f"{stem}-renamed{ext.replace('.', '-')}{wrong}")  # wrong extension, intact content
        cases[-1].write_bytes(data)
    (root / "empty.mp4").write_bytes(b"")  # zero-length streams
    cases.append(root / "empty.mp4")
    for name, src in (("audio-only.mp4", ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1", "-c:a", "aac"]),
                      ("no-frames.mp4", ["-f", "lavfi", "-i", "color=c=gray:s=64x64:r=10", "-frames:v", "0",
                                         *H264])):
        subprocess.run([ffmpeg(), "-y", "-loglevel", "error", *src, str(root / name)], check=True)
        cases.append(root / name)
    return cases


class _CurrentStderr(io.TextIOBase):
    """Logging's stream: whatever sys.stderr is at the time of the record (each case redirects it)."""

    def write(self, s: str) -> int:
        return sys.stderr.write(s)


def _drive(manifest: Path) -> None:
    """The child process: every case through the CLI's main(), one JSON line of what happened each."""
    import logging

    from emotrace.cli import main

    logging.basicConfig(stream=_CurrentStderr(), format="emotrace: %(message)s", level=logging.WARNING)
    for case in json.loads(manifest.read_text()):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(["-q", "analyze", case["input"], "-o", case["out"]])
            except SystemExit as exc:  # argparse
                code = exc.code
        print(json.dumps({**case, "code": code, "stderr": err.getvalue()}), flush=True)


def _check_outputs(out: Path) -> None:
    """A finished run left exactly the complete outputs: readable, consistent, no part or lock files."""
    names = {p.name for p in out.iterdir()}
    assert OUTPUTS <= names, names
    extra = {"annotated.png", "report.html"}  # image jobs of the web app; the report output
    assert all(n in OUTPUTS | extra or (n.startswith("timeline_track") and n.endswith(".png")) for n in names), names
    csv = pd.read_csv(out / "emotions.csv")
    assert len(pd.read_parquet(out / "emotions.parquet")) == len(csv)
    assert len((out / "emotions.jsonl").read_text().splitlines()) == len(csv)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == csv["frame"].nunique() >= 1
    cap = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert cap.read()[0]
    cap.release()


def _check_error(stderr: str) -> None:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("emotrace: error: "), stderr
    assert "Traceback" not in stderr and "rerun with --debug" not in stderr, stderr  # a known reason, not a crash


@pytest.mark.slow
def test_damaged_media_through_the_command_line(tmp_path):
    cases = make_cases(tmp_path / "cases")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps([{"input": str(c), "out": str(tmp_path / "out" / c.name)} for c in cases]))
    res = subprocess.run([sys.executable, "-m", "tests.test_fuzz_media", str(manifest)], cwd=REPO,
                         capture_output=True, text=True, timeout=900)
    results = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert res.returncode == 0 and len(results) == len(cases), (res.returncode, res.stderr[-3000:])
    print(f"media fuzz (CLI): {len(cases)} cases, {sum(r['code'] == 0 for r in results)} analysed, "
          f"{sum(r['code'] == 2 for r in results)} refused")
    for r in results:
        out = Path(r["out"])
        assert r["code"] in (0, 2), r
        if r["code"] == 0:
            _check_outputs(out)
        else:
            _check_error(r["stderr"])
            assert not out.exists() or not any(out.iterdir()), (r, list(out.iterdir()))


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    import httpx

    from tests.web.server import Server

    srv = Server(tmp_path_factory.mktemp("fuzzapi") / "data", "--max-queue", "64")
    with httpx.Client(base_url=srv.url, timeout=120) as client:
        yield srv, client
    assert srv.stop(), srv.log()[-3000:]


@pytest.mark.slow
def test_damaged_media_through_the_upload_api(tmp_path, api):
    from tests.web.server import wait_job

    srv, client = api
    cases = make_cases(tmp_path / "cases", seed=SEED + 1)
    submitted, refused = [], 0
    for c in cases:
        resp = client.post("/api/v1/jobs", files={"file": (c.name, c.read_bytes())})
        if resp.status_code == 202:
            submitted.append(resp.json()["id"])
            continue
        refused += 1
        assert resp.status_code in (400, 415), (c.name, resp.status_code, resp.text)
        detail = resp.json()["detail"]
        assert isinstance(detail, str) and detail and "\n" not in detail and "Traceback" not in detail
    done = failed = 0
    for job_id in submitted:
        job = wait_job(client, job_id)
        out = srv.data_dir / "jobs" / job_id / "out"
        if job["status"] == "done":
            done += 1
            assert job["results"] and client.get(job["results"]["csv"]).status_code == 200
            _check_outputs(out)
        else:
            failed += 1
            assert job["error"] and "\n" not in job["error"] and "Traceback" not in job["error"], job
            assert not out.exists() or not any(out.iterdir()), list(out.iterdir())
    print(f"media fuzz (API): {len(cases)} uploads, {refused} refused at upload, {done} done, {failed} failed")
    assert "Traceback" not in srv.log() and "internal error" not in srv.log(), srv.log()[-3000:]


if __name__ == "__main__":
    _drive(Path(sys.argv[1]))
