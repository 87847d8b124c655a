"""Dataset readers by name, and `open_dataset`, which recognises a folder's layout and reads it.

Each reader turns one on-disk layout into the common schema (`emotrace.data.schema`), mapping its labels into
emotrace's set through `emotrace.labels`; everything it cannot use is counted in `Dataset.skipped` with a reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emotrace.data.readers import affwild2, ckplus, cremad, fer2013, ferplus, generic, jaffe, ravdess
from emotrace.data.schema import Dataset
from emotrace.errors import EmotraceError

# Checked in this order: specific layouts before the generic folder-per-class one.
READERS: dict[str, tuple[Callable[[Path], bool], Callable[..., Dataset]]] = {
    "ferplus": (ferplus.looks_like, ferplus.read),
    "ckplus": (ckplus.looks_like_original, ckplus.read_original),
    "ckplus48": (ckplus.looks_like_ck48, ckplus.read_ck48),
    "affwild2": (affwild2.looks_like, affwild2.read),
    "ravdess": (ravdess.looks_like, ravdess.read),
    "cremad": (cremad.looks_like, cremad.read),
    "jaffe": (jaffe.looks_like, jaffe.read),
    "fer2013-csv": (fer2013.looks_like, fer2013.read),
    "manifest": (generic.looks_like_manifest, generic.read_manifest),
    "folders": (generic.looks_like_folders, generic.read_folders),
}


def detect_format(path: str | Path) -> str:
    """The reader name whose layout `path` has; a clear error when none matches."""
    p = Path(path)
    if not p.exists():
        raise EmotraceError(f"no such dataset path: {p}")
    for name, (looks_like, _) in READERS.items():
        if looks_like(p):
            return name
    raise EmotraceError(f"{p}: not a dataset layout emotrace knows ({', '.join(READERS)}); "
                        "for other data write a CSV manifest with columns path,label")


def reader_options(fmt: str) -> list[str]:
    """The keyword options a reader accepts (label_mode, include_contempt, ...)."""
    return [n for n in inspect.signature(READERS[fmt][1]).parameters if n != "path"]


def open_dataset(path: str | Path, format: str = "auto", **options: Any) -> Dataset:
    """Read a dataset in any known layout. Options a reader does not have are an error, unless they are None."""
    fmt = detect_format(path) if format == "auto" else format
    if fmt not in READERS:
        raise EmotraceError(f"unknown dataset format {fmt!r}; known: {', '.join(READERS)}")
    given = {k: v for k, v in options.items() if v is not None}
    allowed = reader_options(fmt)
    extra = sorted(set(given) - set(allowed))
    if extra:
        raise EmotraceError(f"option(s) {', '.join(extra)} do not apply to {fmt} data "
                            f"(it takes: {', '.join(allowed) or 'none'})")
    if format != "auto" and not READERS[fmt][0](Path(path)):
        raise EmotraceError(f"{path} does not look like {fmt} data")
    return READERS[fmt][1](Path(path), **given)
