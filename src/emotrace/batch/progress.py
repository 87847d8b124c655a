"""The batch's progress on stderr. On a terminal, a live bar; when stderr is a file or a pipe (nohup, SLURM, `2>log`),
a plain line every `every_s` seconds or `every_items` items, since a carriage-return bar piles every update onto
one line of the log (issue 24). Item warnings from the workers go through `write`, which never lands inside the
bar (tqdm clears it, writes the line and redraws)."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

EVERY_S = 30.0  # a plain progress line at least this often
LINES = 20  # ... and about this many over the batch (every total / LINES items)


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """Items done out of `total`, shown as a bar (terminal) or as plain lines (anything else)."""

    def __init__(self, total: int, enabled: bool = True, stream: IO[str] | None = None, every_s: float = EVERY_S,
                 every_items: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.stream = total, stream if stream is not None else sys.stderr
        self.enabled = enabled and total > 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every_s, self.every_items = every_s, every_items or max(1, total // LINES)
        self.clock, self.t0 = clock, clock()
        self.n = self._shown_n = 0
        self._shown_t = self.t0
        self.bar: Any = None
        if self.enabled and self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="item", desc="batch", smoothing=0.1, dynamic_ncols=True,
                            file=self.stream)

    def update(self, **counts: int) -> None:
        """One more item finished; `counts` (done=, failed=) are shown beside the count."""
        self.n += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(refresh=False, **counts)
            return
        now = self.clock()
        if self.enabled and (self.n == self.total or self.n - self._shown_n >= self.every_items
                             or now - self._shown_t >= self.every_s):
            self._shown_n, self._shown_t = self.n, now
            rate = self.n / (now - self.t0) if now > self.t0 else 0.0
            left = f", {_clock((self.total - self.n) / rate)} left" if rate and self.n < self.total else ""
            detail = ", ".join(f"{v} {k}" for k, v in counts.items())
            self._line(f"batch: {self.n}/{self.total} items ({detail}), {rate:.2f} items/s, "
                       f"{_clock(now - self.t0)} elapsed{left}")

    def write(self, message: str) -> None:
        """A line of its own, above the bar (never inside it)."""
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            self._line(message)

    def _line(self, message: str) -> None:
        self.stream.write(message + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    @contextlib.contextmanager
    def logging_above(self) -> Iterator[None]:
        """The driver's own log lines (a worker restarted, ...) printed above the bar, not through it."""
        if self.bar is None:
            yield
            return
        from tqdm.contrib.logging import logging_redirect_tqdm

        with logging_redirect_tqdm(loggers=[logging.getLogger(), logging.getLogger("emotrace")]):
            yield


class WarningCollector(logging.Filter):
    """The warnings an item logs inside a worker, kept for its record (the driver prints them through `write`)
    instead of printed by the worker over the driver's bar; lower levels pass as before."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        self.messages.append(" ".join(record.getMessage().split())[:500])
        return False


@contextlib.contextmanager
def collect_warnings() -> Iterator[list[str]]:
    """Hold back the `emotrace` logger's warnings during one item and give them as a list (every module logs
    to that one logger)."""
    logger = logging.getLogger("emotrace")
    collector = WarningCollector()
    logger.addFilter(collector)
    try:
        yield collector.messages
    finally:
        logger.removeFilter(collector)
