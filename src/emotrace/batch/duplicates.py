"""One file under several names is analysed once (issue 24): the driver hashes every item's bytes before any work
(reusing a record's hash while size and modification time are unchanged, so a rerun reads nothing again), keeps
one copy of each content, and records the others as `duplicate` items that point to it (`duplicate_of`). The
copy kept is one already done with these settings if there is one, else the first by path; its rows are the
content's rows, and the collection counts the content once, under it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotrace.batch.inputs import Item
from emotrace.batch.process import now_utc
from emotrace.batch.store import BatchStore, content_fingerprint

log = logging.getLogger("emotrace")

DUPLICATE = "duplicate"  # an item's status when its bytes are another item's


@dataclass
class Dedup:
    """What hashing the items found: each item's fingerprint (absent: unreadable, the worker says why), and for
    each copy the item it duplicates."""

    fingerprints: dict[str, dict[str, Any]] = field(default_factory=dict)
    original_of: dict[str, Item] = field(default_factory=dict)


def find_duplicates(items: list[Item], store: BatchStore, settings_sha: str) -> Dedup:
    """Fingerprint every item and choose one copy of each content."""
    out = Dedup()
    groups: dict[str, list[Item]] = {}
    for it in items:
        path = Path(it.path)
        if not path.exists():
            continue
        try:
            fp = content_fingerprint(path, store.read_record(it.id))
        except OSError:
            continue  # unreadable: the worker records the reason
        out.fingerprints[it.id] = fp
        groups.setdefault(fp["content_sha256"], []).append(it)
    for copies in groups.values():
        if len(copies) < 2:
            continue

        def rank(it: Item) -> tuple[bool, str]:
            prev = store.read_record(it.id)
            kept = bool(prev) and store.is_done(prev) and prev.get("settings_sha") == settings_sha
            return (not kept, str(Path(it.path).resolve()))

        first, *rest = sorted(copies, key=rank)
        for it in rest:
            out.original_of[it.id] = first
    if out.original_of:
        log.info("%d item(s) have the same bytes as another item; each content is analysed once",
                 len(out.original_of))
    return out


def record_duplicate(store: BatchStore, item: Item, original: Item, fingerprint: dict[str, Any],
                     settings_sha: str) -> bool:
    """Publish `item` as a copy of `original` (no outputs, no rows of its own); False when its record already
    says exactly that (nothing written)."""
    rec = {"id": item.id, "path": str(Path(item.path).resolve()), "meta": item.meta, "status": DUPLICATE,
           "reason": None, "duplicate_of": original.id, "duplicate_of_path": str(Path(original.path).resolve()),
           "settings_sha": settings_sha, **fingerprint}
    prev = store.read_record(item.id)
    if prev and all(prev.get(k) == v for k, v in rec.items()):
        return False
    rec.update(frames=None, faces=None, tracks=None, duration_s=None, seconds=None, finished_utc=now_utc())
    tmp_dir, tmp_rows = store.scratch(item.id)
    tmp_rows.parent.rmdir()
    store.publish(item.id, tmp_dir, rec, None)
    return True
