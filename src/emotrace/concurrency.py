"""Two helper threads with bounded queues, so decoding and writing overlap the models instead of waiting on them.

`Prefetcher` reads an iterator (a video's decoder) ahead into a queue of at most `depth` items; `Worker` runs a
function (every sink's `write`) on items from such a queue, in order. OpenCV's decoder, FFmpeg pipes and ONNX
Runtime release the GIL, so on two cores the stages really run side by side. The bounds keep memory flat: a slow
consumer blocks the producer, never the reverse. An exception in a helper thread is raised again in the caller at
its next call, and `close()` always stops and joins the thread before the caller releases what it reads or writes.
This module imports nothing of emotrace: every layer may use it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_END = object()
_POLL_S = 0.1  # how often a blocked helper looks for a stop request


class Prefetcher(Generic[T]):
    """Iterates `source` in a daemon thread, at most `depth` items ahead of the consumer."""

    def __init__(self, source: Iterator[T], depth: int = 8, name: str = "emotrace-reader") -> None:
        self._source = source
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._done = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._error = exc
        self._put(_END)

    def __iter__(self) -> Prefetcher[T]:
        return self

    def __next__(self) -> T:
        while True:
            if self._done or self._stop.is_set():
                raise StopIteration
            try:
                item = self._queue.get(timeout=_POLL_S)
                break
            except queue.Empty:
                continue
        if item is _END:
            self._done = True
            self._thread.join()
            if self._error is not None:
                raise self._error
            raise StopIteration
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop reading and wait for the thread, so the caller may release the source afterwards."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                while True:
                    self._queue.get_nowait()  # unblock a put
            except queue.Empty:
                pass
            self._thread.join(_POLL_S)
        self._done = True


class Worker(Generic[T]):
    """Calls `fn(item)` in a daemon thread for each submitted item, in order, at most `depth` items behind."""

    def __init__(self, fn: Callable[[T], None], depth: int = 8, name: str = "emotrace-writer") -> None:
        self._fn = fn
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._failed = threading.Event()  # an item failed, or the caller cancelled: skip what is still queued
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if self._failed.is_set():
                continue  # drain without handling: the caller learns of the error (or cancelled)
            try:
                self._fn(item)
            except BaseException as exc:
                self._error = exc
                self._failed.set()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, item: T) -> None:
        """Queue `item`; blocks while `depth` items wait; raises the error of an earlier item."""
        self._raise()
        while True:
            try:
                self._queue.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                self._raise()
                if not self._thread.is_alive():
                    raise RuntimeError("writer thread ended") from None

    def finish(self) -> None:
        """Wait until every submitted item is handled; raises the first error."""
        self.close()
        self._raise()

    def close(self, cancel: bool = False) -> None:
        """Stop after the items already queued (`cancel`: skip them; used when the run is aborted) and join."""
        if cancel:
            self._failed.set()
        if self._thread.is_alive():
            while True:
                try:
                    self._queue.put(_END, timeout=_POLL_S)
                    break
                except queue.Full:
                    if not self._thread.is_alive():
                        break
            self._thread.join()
