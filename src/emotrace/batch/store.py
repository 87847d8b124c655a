"""The batch output folder: where each item's results live, how they are published without ever being half
written, and how a rerun knows an item is already done (a key over its content, its settings and its metadata).

    OUT/items/<id>/item.json     the item's record (status, reason, counts, per-track results, key)
    OUT/items/<id>/...           the item's outputs (the same files `analyze` writes)
    OUT/rows/<id>.parquet        the item's rows in the collection dataset (present only while the record is done)

An item is done when its record says so and its rows file exists. Publishing removes the old rows file, swaps the
item folder in by rename, then renames the new rows file in: a kill at any point leaves either the old state or
an item that is redone, never a record that disagrees with its rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from emotrace.errors import EmotraceError
from emotrace.hashing import file_sha256

SCHEMA_VERSION = 1


class BatchStore:
    """One batch output folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.items = self.root / "items"
        self.rows = self.root / "rows"
        self._lock_fh: Any = None

    def prepare(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise EmotraceError(f"output folder {self.root} exists and is not a folder")
        self.items.mkdir(parents=True, exist_ok=True)
        self.rows.mkdir(parents=True, exist_ok=True)

    def lock(self) -> None:
        """Refuse a second batch on the same folder at the same time (their renames would race)."""
        import fcntl

        self._lock_fh = open(self.root / ".lock", "w")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise EmotraceError(f"another emotrace batch is writing to {self.root}") from None

    def unlock(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def clean_leftovers(self) -> int:
        """Remove what killed runs left half way (temporary item folders, rows files not yet renamed in)."""
        n = 0
        for p in list(self.items.glob(".*")) + list(self.rows.glob(".*")):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            n += 1
        return n

    # -- records ------------------------------------------------------------------------------------------------
    def record_path(self, item_id: str) -> Path:
        return self.items / item_id / "item.json"

    def rows_path(self, item_id: str) -> Path:
        return self.rows / f"{item_id}.parquet"

    def read_record(self, item_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.record_path(item_id).read_text())
        except (OSError, ValueError):
            return None

    def write_record(self, rec: dict[str, Any]) -> None:
        """Rewrite a published record in place (temp file then rename)."""
        path = self.record_path(rec["id"])
        tmp = path.with_name(f".item.json.{uuid.uuid4().hex[:8]}")
        tmp.write_text(json.dumps(rec, indent=1, default=str))
        os.replace(tmp, path)

    def records(self) -> list[dict[str, Any]]:
        """Every item record in the folder, by id."""
        out = []
        for d in sorted(self.items.iterdir()):
            if d.is_dir() and not d.name.startswith("."):
                rec = self.read_record(d.name)
                if rec is not None:
                    out.append(rec)
        return out

    def is_done(self, rec: dict[str, Any] | None) -> bool:
        return bool(rec) and rec.get("status") == "done" and self.rows_path(rec["id"]).is_file()

    def drop_orphan_rows(self, done_ids: set[str]) -> None:
        """A rows file whose record is not done (a kill between the two renames) leaves the dataset."""
        for p in self.rows.glob("*.parquet"):
            if p.stem not in done_ids:
                p.unlink(missing_ok=True)

    # -- publishing -------------------------------------------------------------------------------------------
    def scratch(self, item_id: str) -> tuple[Path, Path]:
        """A fresh temporary item folder and temporary rows file name (hidden names: not part of the dataset)."""
        tag = uuid.uuid4().hex[:8]
        tmp = self.items / f".{item_id}.{tag}.partial"
        tmp.mkdir(parents=True)
        # The rows file gets a hidden folder of its own: each run locks the folders it writes into, and items
        # finishing at once on several workers must not share one.
        rows_dir = self.rows / f".{item_id}.{tag}.partial"
        rows_dir.mkdir(parents=True)
        return tmp, rows_dir / "rows.parquet"

    def publish(self, item_id: str, tmp_dir: Path, record: dict[str, Any], tmp_rows: Path | None) -> None:
        """Write the record into `tmp_dir` and swap it in; then the rows file (done items only)."""
        (tmp_dir / "item.json").write_text(json.dumps(record, indent=1, default=str))
        self.rows_path(item_id).unlink(missing_ok=True)
        final = self.items / item_id
        old = None
        if final.exists():
            old = self.items / f".{item_id}.{uuid.uuid4().hex[:8]}.old"
            os.rename(final, old)
        os.rename(tmp_dir, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        if tmp_rows is not None:
            os.replace(tmp_rows, self.rows_path(item_id))
            shutil.rmtree(tmp_rows.parent, ignore_errors=True)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [path]


def _stats(path: Path, files: list[Path]) -> list[list[Any]]:
    return [[str(f.relative_to(path)) if path.is_dir() else f.name, f.stat().st_size, f.stat().st_mtime_ns]
            for f in files]


def stat_key(path: Path) -> str | None:
    """A cheap key over the names, sizes and modification times of the item's files (None: cannot stat)."""
    try:
        return hashlib.sha1(json.dumps(_stats(path, _files(path))).encode()).hexdigest()
    except OSError:
        return None


def content_fingerprint(path: Path, previous: dict[str, Any] | None) -> dict[str, Any]:
    """sha256 of the item's bytes (a folder: of its files' names and hashes). When size and modification time of
    every file match the previous record, its hash is reused instead of reading the bytes again."""
    files = _files(path)
    stat = _stats(path, files)
    key = hashlib.sha1(json.dumps(stat).encode()).hexdigest()
    if previous and previous.get("stat_key") == key and previous.get("content_sha256"):
        return {"stat_key": key, "content_sha256": previous["content_sha256"]}
    if path.is_dir():
        h = hashlib.sha256()
        for (name, _, _), f in zip(stat, files, strict=True):
            h.update(f"{name}\0{file_sha256(f)}\n".encode())
        digest = h.hexdigest()
    else:
        digest = file_sha256(path)
    return {"stat_key": key, "content_sha256": digest}


def settings_key(settings: dict[str, Any]) -> str:
    """Hash of everything that changes an item's results: analyzer config, outputs, sequence mode, versions."""
    from emotrace.version import __version__

    blob = json.dumps({"settings": settings, "schema": SCHEMA_VERSION, "version": __version__}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def item_key(content_sha256: str, settings_sha: str, meta: dict[str, Any]) -> str:
    blob = json.dumps([content_sha256, settings_sha, meta], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
