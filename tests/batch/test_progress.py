"""The batch's progress and warnings on stderr (issue 24): plain lines when stderr is a log file, a bar on a
terminal with the workers' warnings above it, and the slowest-items tables that rank like with like."""

from __future__ import annotations

import io
import logging

from emotrace.batch.process import Task
from emotrace.batch.progress import Progress, collect_warnings
from emotrace.batch.report import slowest_html
from emotrace.batch.runner import BatchResult, _execute


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_file_gets_one_plain_line_per_update():
    out, now = io.StringIO(), [0.0]
    bar = Progress(40, stream=out, every_items=10, every_s=1e9, clock=lambda: now[0])
    for k in range(40):
        now[0] += 1.0
        bar.update(done=k + 1, failed=0)
    bar.close()
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert [line.split()[1] for line in lines] == ["10/40", "20/40", "30/40", "40/40"], lines
    assert "40 done, 0 failed" in lines[-1] and "1.00 items/s" in lines[-1]


def test_a_log_file_also_gets_a_line_every_so_many_seconds():
    out, now = io.StringIO(), [0.0]
    bar = Progress(1000, stream=out, every_items=500, every_s=30.0, clock=lambda: now[0])
    for _ in range(4):
        now[0] += 20.0
        bar.update(done=1)
    assert len(out.getvalue().splitlines()) == 2  # at 40 s and 80 s


def test_on_a_terminal_a_warning_is_a_line_above_the_bar():
    out = _Tty()
    bar = Progress(3, stream=out)
    bar.update(done=1)
    bar.write("warning: /x/a.mp4: truncated")
    bar.update(done=2)
    bar.close()
    assert "\r" in out.getvalue()  # a live bar
    assert any(line.strip() == "warning: /x/a.mp4: truncated" for line in out.getvalue().replace("\r", "\n")
               .splitlines())


def test_an_item_warning_is_held_for_the_record_not_printed(caplog):
    log = logging.getLogger("emotrace")
    with caplog.at_level(logging.INFO, logger="emotrace"), collect_warnings() as warned:
        log.warning("clip.mp4: truncated; results cover the frames read")
        log.info("kept")
    assert warned == ["clip.mp4: truncated; results cover the frames read"]
    assert [r.getMessage() for r in caplog.records] == ["kept"]
    log.warning("after")
    assert caplog.records[-1].getMessage() == "after"


class _Engine:
    def run(self, tasks):
        for t in tasks:
            yield {"id": t.id, "path": t.path, "status": "done", "frames": 3, "warnings": ["truncated at frame 3"]}


def test_the_driver_prints_worker_warnings_on_their_own_lines(capsys):
    tasks = [Task(id=f"i{k}", path=f"/x/{k}.mp4", meta={}, out="/x", outputs=("csv",), sequence=False,
                  settings_sha="s") for k in range(2)]
    result = BatchResult(out=None)  # type: ignore[arg-type]
    _execute(_Engine(), tasks, result, progress=True)
    err = capsys.readouterr().err
    assert "warning: /x/0.mp4: truncated at frame 3\n" in err and "warning: /x/1.mp4: truncated at frame 3\n" in err
    assert "\r" not in err and result.done == 2  # pytest's stderr is no terminal: plain lines


def _done(path: str, frames: int, seconds: float, first: bool = False) -> dict:
    return {"path": path, "frames": frames, "seconds": seconds, "first_on_worker": first}


def test_slowest_ranks_videos_by_frames_per_second_and_photos_by_seconds_without_warm_up():
    rows = [_done("/s/warm.jpg", 1, 9.0, first=True), _done("/s/warm.mp4", 100, 90.0, first=True),
            _done("/s/a.jpg", 1, 0.4), _done("/s/b.jpg", 1, 0.9),
            _done("/s/long.mp4", 3000, 30.0), _done("/s/slow.mp4", 100, 10.0)]
    page = "".join(slowest_html(rows))
    assert "warm." not in page and "warm-up" in page
    videos, photos = page.split("Slowest photos")
    assert videos.index("slow.mp4") < videos.index("long.mp4") and ".jpg" not in videos
    assert photos.index("b.jpg") < photos.index("a.jpg") and ".mp4" not in photos
