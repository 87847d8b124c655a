"""One run per output folder: a run holds an exclusive lock on `<folder>/.emotrace.lock` while it writes there, so
a second run into the same folder is refused at once with a clear message instead of mixing files with the first.

The lock is `flock` on an open file, so the kernel drops it when the process dies, even by SIGKILL: a stale lock
file never blocks the next run. The file is removed on release; taking the lock checks that the locked file is
still the one at the path, so a run that opened the file just before another removed it cannot hold a dead lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from emotrace.errors import EmotraceError

LOCK_NAME = ".emotrace.lock"


class FolderInUse(EmotraceError):
    """Another run writes into the folder now."""


class FolderLock:
    """Exclusive, non-blocking; `release` is idempotent."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None
        self._made_folder = False

    def acquire(self) -> FolderLock:
        import fcntl

        if not self.folder.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            self._made_folder = True
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 64).decode("ascii", "replace").strip()
                os.close(fd)
                who = f" (pid {holder})" if holder.isdigit() else ""
                raise FolderInUse(f"output folder {self.folder} is in use by another emotrace run{who}; wait for it "
                                  "to finish or choose another output folder") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed the file between our open and our lock: take the new one
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)  # while still locked: nobody can have locked this inode meanwhile
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None
        if self._made_folder:
            try:
                self.folder.rmdir()  # only if the run left it empty (it failed before publishing anything)
            except OSError:
                pass

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_folders(folders: Iterable[Path]) -> list[FolderLock]:
    """Lock every folder (in a fixed order, so two runs never wait on each other crosswise); all or none."""
    taken: list[FolderLock] = []
    try:
        for f in sorted({Path(os.path.abspath(f)) for f in folders}):
            taken.append(FolderLock(f).acquire())
    except BaseException:
        for lk in reversed(taken):
            lk.release()
        raise
    return taken
