"""The collection tables, rebuilt from the per-item records every time (so they are never out of step with them):
`collection.parquet` and `collection.json` with one row per item, beside the `rows/` Parquet dataset."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from emotrace.batch.store import BatchStore

# `complete` False: a truncated video whose readable part was analysed (`incomplete_reason` says where it stopped);
# `duplicate_of`: for status `duplicate`, the item (id) with the same bytes that was analysed in its place;
# `content_sha256`: the item's bytes (equal hashes, equal files); `source_folder`: the folder the item lies in;
# `first_on_worker`: the worker's first item (its `seconds` include the warm-up).
ITEM_FIELDS = ["item_id", "path", "status", "reason", "complete", "incomplete_reason", "duplicate_of",
               "content_sha256", "source_folder", "frames", "faces", "tracks", "duration_s", "seconds",
               "first_on_worker", "dominant_emotion"]


def collection_rows(store: BatchStore, recs: list[dict[str, Any]] | None = None
                    ) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per item record in the folder (`recs`, read here unless given), and the emotion classes seen. A
    record that says done but whose rows file is missing (a kill between the two renames) is 'pending': the next
    run redoes it."""
    recs = store.records() if recs is None else recs
    done = {r["id"] for r in recs if store.is_done(r)}
    store.drop_orphan_rows(done)
    classes: list[str] = []
    for r in recs:
        for c in r.get("label_counts") or {}:
            if c not in classes:
                classes.append(c)
    rows = []
    for r in recs:
        status = r.get("status") if r["id"] in done or r.get("status") != "done" else "pending"
        row: dict[str, Any] = {"item_id": r["id"], "path": r["path"], **(r.get("meta") or {}), "status": status}
        for k in ITEM_FIELDS[3:]:
            row[k] = r.get(k)
        row["source_folder"] = os.path.dirname(str(r["path"]))
        if row["complete"] is None and r.get("status") == "done":
            row["complete"] = True  # a record written before items could be incomplete
        counts = r.get("label_counts") or {}
        total = sum(counts.values())
        for c in classes:
            row[f"share_{c}"] = round(counts.get(c, 0) / total, 4) if total else None
        row["track_results"] = r.get("track_results") or []
        row["outputs"] = r.get("outputs") or ["item.json"]
        row["finished_utc"] = r.get("finished_utc")
        rows.append(row)
    return rows, classes


def write_collection(store: BatchStore, rows: list[dict[str, Any]], meta: dict[str, Any]) -> list[Path]:
    """collection.parquet and collection.json (temp file then rename each)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = []
    df = pd.DataFrame(rows)
    for c in ("frames", "faces", "tracks"):
        if c in df:
            df[c] = df[c].astype("Int64")
    pq_path = store.root / "collection.parquet"
    tmp = pq_path.with_name(".collection.parquet.part")
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"emotrace": json.dumps(meta, default=str).encode()})
    pq.write_table(table, tmp)
    os.replace(tmp, pq_path)
    out.append(pq_path)
    js = store.root / "collection.json"
    tmp = js.with_name(".collection.json.part")
    tmp.write_text(json.dumps({"batch": meta, "items": rows}, indent=1, default=str))
    os.replace(tmp, js)
    out.append(js)
    return out
