"""The helper threads: order kept, bounded, errors raised in the caller, and joined on close."""

import threading
import time

import pytest

from emotrace.concurrency import Prefetcher, Worker


def test_prefetcher_keeps_order_and_stays_bounded():
    made = []

    def source():
        for i in range(50):
            made.append(i)
            yield i

    p = Prefetcher(source(), depth=3)
    time.sleep(0.2)
    assert len(made) <= 5  # depth queued, one waiting to be put, one being made
    assert list(p) == list(range(50))


def test_prefetcher_raises_the_source_error_in_the_caller():
    def source():
        yield 1
        raise ValueError("bad frame")

    p = Prefetcher(source())
    assert next(p) == 1
    with pytest.raises(ValueError, match="bad frame"):
        next(p)


def test_prefetcher_close_joins_a_blocked_reader():
    def endless():
        while True:
            yield 0

    p = Prefetcher(endless(), depth=2)
    next(p)
    p.close()
    assert not p._thread.is_alive()
    with pytest.raises(StopIteration):
        next(p)


def test_worker_runs_in_order_and_finish_waits():
    seen = []
    w = Worker(lambda x: (time.sleep(0.001), seen.append(x)), depth=2)
    for i in range(20):
        w.submit(i)
    w.finish()
    assert seen == list(range(20))


def test_worker_error_reaches_the_caller_and_later_items_are_skipped():
    seen = []

    def fn(x):
        if x == 3:
            raise OSError("disk full")
        seen.append(x)

    w = Worker(fn, depth=1)
    with pytest.raises(OSError, match="disk full"):
        for i in range(100):
            w.submit(i)
        w.finish()
    w.close(cancel=True)
    assert seen == [0, 1, 2]


def test_worker_cancel_skips_what_is_queued():
    gate = threading.Event()
    seen = []
    w = Worker(lambda x: (gate.wait(), seen.append(x)), depth=10)
    for i in range(5):
        w.submit(i)
    threading.Timer(0.1, gate.set).start()
    w.close(cancel=True)
    assert len(seen) <= 1 and not w._thread.is_alive()
