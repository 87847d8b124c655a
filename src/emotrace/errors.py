"""One error type for everything a user can get wrong, and the one way any exception becomes one line for the user
(the CLI, the training CLI, batch records and web jobs all print it the same way)."""

from __future__ import annotations

import sys
from pathlib import Path


class EmotraceError(Exception):
    """A problem with the user's input or setup; its message is one line meant for the user."""


class SourceError(EmotraceError):
    """A source (file, folder, URL, webcam) that cannot be opened or decoded."""


class Interrupted(KeyboardInterrupt):
    """A stop signal (SIGINT, SIGTERM, SIGHUP): unwinds like Ctrl-C, so every sink drops its part files the same
    way, and says which signal it was."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_stop_signal: list[int] = []  # set by `request_stop`; read by the run loop between frames


def request_stop(signum: int, _frame: object = None) -> None:
    """A signal handler: remember the stop, then raise it. Python drops an exception raised while its main thread is
    in a weakref or import-lock callback ("Exception ignored in ..."), so the raise alone can be lost; the run loop
    calls `raise_if_stopped` between frames and before publishing, so the stop is never lost."""
    _stop_signal.append(signum)
    raise Interrupted(signum)


def raise_if_stopped() -> None:
    """Raise the stop a signal handler asked for, if one did (see `request_stop`)."""
    if _stop_signal:
        raise Interrupted(_stop_signal[0])


def first_line(exc: BaseException) -> str:
    """The exception's first line of text ('' when it has none): tracebacks and multi-line library errors are cut."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def one_line(exc: BaseException, file_name_only: bool = False) -> str:
    """What went wrong, in one line: our own errors as they are, OS errors as reason and path (`file_name_only`: the
    name alone, for a server that must not show its paths), anything else as its type and first line."""
    if isinstance(exc, EmotraceError):
        return str(exc)
    if isinstance(exc, OSError):
        if not exc.filename:
            return f"{exc.strerror or exc}"
        return f"{exc.strerror or exc}: {Path(str(exc.filename)).name if file_name_only else exc.filename}"
    return f"{type(exc).__name__}: {first_line(exc)}"


def print_error(message: str) -> None:
    """The command line's error line on stderr: `emotrace: error: <message>`."""
    print(f"emotrace: error: {message}", file=sys.stderr)
