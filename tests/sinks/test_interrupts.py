"""A stop (Ctrl-C, SIGTERM, SIGHUP all arrive as KeyboardInterrupt) at any point of a run leaves no file behind:
not while a sink opens, not after some sinks have already published (issue 17, items 1-2)."""

from __future__ import annotations

import pytest

from emotrace.api import build_sinks, run
from emotrace.pipeline import Analyzer
from emotrace.sinks import Sink, TableSink
from emotrace.sinks.base import atomic_path
from emotrace.sinks.lock import LOCK_NAME
from tests.helpers import astronaut_frames


class StopInOpen(TableSink):
    """Has created its part file when the stop arrives, before open() returns."""

    def open(self, meta) -> None:
        super().open(meta)
        raise KeyboardInterrupt


class Stop(Sink):
    """Raises KeyboardInterrupt in `open` or `close`, as a signal arriving there would."""

    def __init__(self, folder, when: str) -> None:
        self.folder, self.when = folder, when

    def open(self, meta) -> None:
        super().open(meta)
        if self.when == "open":
            raise KeyboardInterrupt

    def write(self, result) -> None:
        pass

    def close(self):
        raise KeyboardInterrupt


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer(batch_frames=2)


@pytest.mark.parametrize("when", ["open", "close"])
def test_a_stop_anywhere_leaves_nothing(tmp_path, analyzer, when):
    out = tmp_path / "out"
    last = StopInOpen(out / "emotions.jsonl", "jsonl") if when == "open" else Stop(out, when)
    sinks = [*build_sinks(out, ["csv", "parquet", "summary"]), last]  # the stop comes after the others
    with pytest.raises(KeyboardInterrupt):
        run(astronaut_frames(4), analyzer, sinks)
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


def test_part_names_belong_to_the_run(tmp_path):
    import os

    part = atomic_path(tmp_path / "emotions.csv")
    assert part.parent == tmp_path and part.name.startswith(".emotions.csv.") and part.name.endswith(".part")
    assert f".{os.getpid()}-" in part.name  # another process writing emotions.csv never shares it
    assert LOCK_NAME.startswith(".")
