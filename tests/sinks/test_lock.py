"""The output-folder lock: exclusive, names its holder, leaves nothing behind (issue 17, item 1)."""

from __future__ import annotations

import os

import pytest

from emotrace.sinks.lock import LOCK_NAME, FolderInUse, FolderLock, lock_folders


def test_exclusive_names_the_holder_and_cleans_up(tmp_path):
    out = tmp_path / "new"
    first = FolderLock(out).acquire()
    with pytest.raises(FolderInUse, match=f"in use by another emotrace run \\(pid {os.getpid()}\\)"):
        FolderLock(out).acquire()  # a second open file: refused even inside one process
    first.release()
    assert not out.exists()  # made by the lock and left empty: removed
    first.release()  # idempotent
    kept = tmp_path / "kept"
    kept.mkdir()
    with FolderLock(kept):
        (kept / "emotions.csv").write_text("x")
    assert sorted(p.name for p in kept.iterdir()) == ["emotions.csv"]


def test_several_folders_all_or_none(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    with FolderLock(b):
        with pytest.raises(FolderInUse):
            lock_folders([a, b])
        assert not (a / LOCK_NAME).exists()  # the lock on a was given back
    locks = lock_folders([a, b, a])  # duplicates are one folder
    assert len(locks) == 2
    for lk in locks:
        lk.release()
