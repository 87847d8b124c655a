"""What a batch runs over: folders (recursive), globs, files and manifests (CSV/Parquet with a `path` column whose
other columns are carried into every output row), turned into `Item`s with stable ids."""

from __future__ import annotations

import glob
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotrace.errors import EmotraceError
from emotrace.sinks.rows import row_columns
from emotrace.sources.base import IMAGE_EXTS, VIDEO_EXTS

log = logging.getLogger("emotrace")

MANIFEST_EXTS = {".csv", ".parquet", ".pq"}
# Columns every collection row already has; a manifest column of the same name is renamed `manifest_<name>`.
ITEM_COLUMNS = ["item_id", "path"]


@dataclass
class Item:
    """One unit of work: a video, a photo, or (with --sequence) a folder of one video's frames."""

    id: str
    path: str
    meta: dict[str, Any] = field(default_factory=dict)


def item_id(path: Path) -> str:
    """A stable id: the file name made safe, plus a hash of the absolute path (two `clip.mp4` never collide)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.name)[:48].strip("._") or "item"
    return f"{stem}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]}"


def _media_files(folder: Path) -> list[Path]:
    exts = IMAGE_EXTS | VIDEO_EXTS
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in exts
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _group_sequences(files: list[Path]) -> list[Path]:
    """With --sequence: the images of one folder are one item (the folder); videos stay items of their own."""
    out: list[Path] = []
    seen: set[Path] = set()
    for p in files:
        if p.suffix.lower() in IMAGE_EXTS:
            if p.parent not in seen:
                seen.add(p.parent)
                out.append(p.parent)
        else:
            out.append(p)
    return out


def read_manifest(path: Path) -> tuple[list[Item], Any]:
    """Items from a manifest, and the pyarrow fields of its metadata columns (one type per column for all rows)."""
    import pandas as pd
    import pyarrow as pa

    try:
        df = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    except Exception as exc:
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EmotraceError(f"cannot read manifest {path}: {why}") from None
    if "path" not in df.columns:
        raise EmotraceError(f"manifest {path} has no 'path' column (columns: {', '.join(map(str, df.columns))})")
    from emotrace.batch.collection import ITEM_FIELDS  # the collection row's own columns win over a manifest's

    taken = set(ITEM_COLUMNS) | set(ITEM_FIELDS) | set(row_columns([]))
    rename = {c: f"manifest_{c}" for c in df.columns if c != "path" and (str(c) in taken or str(c).startswith(
        ("frame_", "temporal_", "valence", "arousal")))}
    if rename:
        log.warning("manifest columns %s clash with result columns; they are named %s in the outputs",
                    ", ".join(rename), ", ".join(rename.values()))
        df = df.rename(columns=rename)
    meta_cols = [str(c) for c in df.columns if c != "path"]
    table = pa.Table.from_pandas(df[meta_cols], preserve_index=False) if meta_cols else None
    fields = [] if table is None else [table.schema.field(c) for c in meta_cols]
    fields = [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in fields]
    items = []
    base = path.parent
    records = df[meta_cols].astype(object).where(df[meta_cols].notna(), None).to_dict("records") if meta_cols \
        else [{} for _ in range(len(df))]
    for raw, meta in zip(df["path"], records, strict=True):
        if raw is None or (isinstance(raw, float) and raw != raw) or not str(raw).strip():
            raise EmotraceError(f"manifest {path} has a row with an empty path")
        p = Path(str(raw)).expanduser()
        p = p if p.is_absolute() else base / p
        items.append(Item(item_id(p), str(p), {k: _plain(v) for k, v in meta.items()}))
    return items, fields


def _plain(v: Any) -> Any:
    """numpy / pandas scalars as plain Python values (JSON records, Parquet rows)."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            return v.item()
        except (ValueError, AttributeError):
            return v
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def collect_items(inputs: list[str], sequence: bool = False, exclude: Path | None = None,
                  ) -> tuple[list[Item], list[Any]]:
    """Every item named by `inputs`, in order, each once; plus the manifest metadata fields (pyarrow). Files under
    `exclude` (the batch's own output folder, when it lies inside an input folder) are never items."""
    items: list[Item] = []
    fields: list[Any] = []
    manifests = 0
    for spec in inputs:
        p = Path(spec).expanduser()
        if p.is_file() and p.suffix.lower() in MANIFEST_EXTS:
            got, f = read_manifest(p)
            manifests += 1
            if manifests > 1 and [x.name for x in f] != [x.name for x in fields]:
                raise EmotraceError(f"manifest {p} has other columns than the first manifest")
            fields = f
            items += got
            continue
        if p.is_dir():
            files = _media_files(p)
            if not files:
                raise EmotraceError(f"no images or videos under {p}")
        elif p.exists():
            files = [p]
        else:
            matches = sorted(Path(m) for m in glob.glob(str(p), recursive=True))
            files = [m for m in matches if m.is_file()] + [f for m in matches if m.is_dir() for f in _media_files(m)]
            if not files:
                raise EmotraceError(f"no such file or folder, and no glob match: {spec}")
        if exclude is not None:
            files = [f for f in files if not f.resolve().is_relative_to(exclude)]
        for f in _group_sequences(files) if sequence else files:
            items.append(Item(item_id(f), str(f)))
    if manifests and manifests != len(inputs):
        raise EmotraceError("give either manifests or folders/files/globs, not both (metadata columns would differ)")
    unique: dict[str, Item] = {}
    for it in items:
        unique.setdefault(it.id, it)
    if len(unique) < len(items):
        log.warning("%d input(s) named more than once; each is analysed once", len(items) - len(unique))
    if not unique:
        raise EmotraceError("no items to analyse")
    return list(unique.values()), fields
