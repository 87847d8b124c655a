"""People across a collection (issue 25 B): each done item's persons (its record's `persons`, with their mean face
descriptors) get a collection-level `collection_person_id` by average linkage (`faces/clustering.py`), or by a
manifest column of known identities (`--identity-column`), which wins. Rebuilt from the records every run, like
the collection tables, so the ids never depend on which worker finished first.

    person_items.parquet  one row per (item, per-item person): its collection person, tracks, frames, time, shares
    persons.parquet       one row per collection person: its items, time on screen, frames, emotion shares

The item rows (`rows/<id>.parquet`) keep the per-item `person_id`; joining them with `person_items.parquet` on
(`item_id`, `person_id`) gives each row its collection person. The row files are not rewritten: a collection id
can change whenever an item is added (a new face may join two people), and rewriting every item's rows on every
run would cost a pass over the whole dataset.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emotrace.batch.store import BatchStore
from emotrace.faces.clustering import cluster_people

OLD_RECORD = "not linked: analysed before person descriptors were kept (its person_id stays per item)"
LINKING_OFF = "not linked: person linking was off (--person-distance 0)"


@dataclass
class CollectionPeople:
    """The two tables' rows, and per item the collection ids of its persons (in its person order) or why none."""

    items: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    of_item: dict[str, list[int]] = field(default_factory=dict)
    note: dict[str, str] = field(default_factory=dict)


def _identity(rec: dict[str, Any], column: str | None) -> str | None:
    v = (rec.get("meta") or {}).get(column) if column else None
    if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
        return None
    return str(v).strip()


def link_collection(recs: list[dict[str, Any]], done: set[str], classes: list[str], max_distance: float,
                    identity_column: str | None = None) -> CollectionPeople:
    """Collection persons for the done records `recs` (`max_distance` 0: each item's persons stay apart, though
    identities still group). An item's known identity names its main person (the most frames; the lower id on a
    tie): a manifest row describes one participant, the other faces of the item are others."""
    out = CollectionPeople()
    points: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for rec in sorted((r for r in recs if r["id"] in done), key=lambda r: r["id"]):
        if "persons" not in rec:
            out.note[rec["id"]] = LINKING_OFF if "people" not in (rec.get("analyzer") or {}) else OLD_RECORD
            continue
        persons = sorted(rec["persons"], key=lambda p: p["person_id"])
        points += [(rec, p) for p in persons]
    if not points:
        return out
    # One descriptor model per collection: descriptors of another length (items analysed by an emotrace whose
    # descriptor was dlib's 128-d one) are not comparable, so those persons are linked by identity only.
    dim = max((len(p["descriptor"]) for _, p in points if p.get("descriptor")), default=1)
    usable = [bool(p.get("descriptor")) and len(p["descriptor"]) == dim for _, p in points]
    desc = np.array([p["descriptor"] if ok else [np.nan] * dim for (_, p), ok in zip(points, usable, strict=True)],
                    np.float64)
    main = {rec["id"]: max(rec["persons"], key=lambda p: (p["frames"], -p["person_id"]))["person_id"]
            for rec in {r["id"]: r for r, _ in points}.values() if rec["persons"]}
    known = [_identity(rec, identity_column) if main.get(rec["id"]) == p["person_id"] else None
             for rec, p in points]
    ids = cluster_people(desc, max_distance, [rec["id"] for rec, _ in points], known)
    for (rec, p), cid, k, ok in zip(points, ids, known, usable, strict=True):
        out.of_item.setdefault(rec["id"], []).append(cid)
        counts = p.get("label_counts") or {}
        total = sum(counts.values())
        out.items.append({"item_id": rec["id"], "path": rec["path"], "person_id": p["person_id"],
                          "collection_person_id": cid, "identity": k, "person_basis": p.get("person_basis"),
                          "tracks": list(p["tracks"]), "frames": p["frames"], "seconds": p["seconds"],
                          "start_s": p["start_s"], "end_s": p["end_s"], "dominant_emotion": p["dominant_emotion"],
                          "linked_by": "identity" if k else "face" if ok else None,
                          **{f"share_{c}": round(counts.get(c, 0) / total, 4) if total else None for c in classes}})
    out.persons = _persons(out.items, points, classes)
    return out


def _persons(items: list[dict[str, Any]], points: list[tuple[dict[str, Any], dict[str, Any]]],
             classes: list[str]) -> list[dict[str, Any]]:
    """One row per collection person: emotions over every frame of every item it was seen in."""
    acc: dict[int, dict[str, Any]] = {}
    for row, (_, p) in zip(items, points, strict=True):
        a = acc.setdefault(row["collection_person_id"], {"collection_person_id": row["collection_person_id"],
                                                         "identity": None, "item_ids": [], "frames": 0,
                                                         "seconds": 0.0, "counts": dict.fromkeys(classes, 0),
                                                         "bases": set()})
        a["identity"] = a["identity"] or row["identity"]
        a["item_ids"].append(row["item_id"])
        a["frames"] += row["frames"]
        a["seconds"] += row["seconds"]
        a["bases"].add("identity" if row["identity"] else row["linked_by"] or row["person_basis"] or "")
        for c, v in (p.get("label_counts") or {}).items():
            a["counts"][c] = a["counts"].get(c, 0) + v
    rows = []
    for cid in sorted(acc):
        a = acc[cid]
        counts, bases = a.pop("counts"), a.pop("bases")
        total = sum(counts.values())
        basis = "identity" if "identity" in bases else "face" if "face" in bases else ",".join(sorted(bases))
        rows.append({**a, "basis": basis, "items": len(set(a["item_ids"])), "seconds": round(a["seconds"], 3),
                     "dominant_emotion": max(counts, key=lambda c: (counts[c], -classes.index(c)))
                     if total else None,
                     **{f"share_{c}": round(counts.get(c, 0) / total, 4) if total else None for c in classes}})
    return rows


def write_people(store: BatchStore, people: CollectionPeople) -> list[str]:
    """persons.parquet and person_items.parquet (temp file then rename each); with no person at all, neither (a
    stale pair from an earlier run is removed)."""
    import pandas as pd

    written = []
    for name, rows in (("persons.parquet", people.persons), ("person_items.parquet", people.items)):
        path = store.root / name
        if not rows:
            path.unlink(missing_ok=True)
            continue
        tmp = path.with_name(f".{name}.part")
        pd.DataFrame(rows).to_parquet(tmp, index=False)
        os.replace(tmp, path)
        written.append(name)
    return written
