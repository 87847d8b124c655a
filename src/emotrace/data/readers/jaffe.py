"""JAFFE: 213 gray TIFF stills of 10 Japanese women, named `KA.AN1.39.tiff` (subject, expression + take, image no).

Expression codes: AN angry, DI disgust, FE fear, HA happy, NE neutral, SA sad, SU surprise. Subject = the two
initials. There is no official split: use subject k-fold.
"""

from __future__ import annotations

import re
from pathlib import Path

from emotrace.data.readers.common import class_index, image_problem
from emotrace.data.schema import Dataset, ImageFile, Sample
from emotrace.labels import EMOTIONS

NAME = re.compile(r"^([A-Z]{2})\.([A-Z]{2})(\d+)\.(\d+)\.tiff?$", re.IGNORECASE)


def _tiffs(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.suffix.lower() in (".tiff", ".tif") and not p.name.startswith("."))


def looks_like(path: Path) -> bool:
    tiffs = _tiffs(path)[:20] if path.is_dir() else []
    return bool(tiffs) and sum(bool(NAME.match(p.name)) for p in tiffs) >= len(tiffs) / 2


def read(path: Path) -> Dataset:
    samples: list[Sample] = []
    skipped: list[tuple[str, str]] = []
    for p in _tiffs(path):
        m = NAME.match(p.name)
        if not m:
            skipped.append((p.name, "unrecognised file name"))
            continue
        label = class_index(m.group(2), EMOTIONS)
        if label is None:
            skipped.append((p.name, f"unknown label: {m.group(2)}"))
            continue
        problem = image_problem(p)
        if problem:
            skipped.append((p.name, problem))
            continue
        samples.append(Sample(id=p.stem, media=ImageFile(p), label=label, subject=m.group(1).upper(),
                              meta={"take": int(m.group(3)), "image_no": int(m.group(4))}))
    return Dataset("jaffe", path, EMOTIONS, samples, skipped, precropped=False,
                   notes=["JAFFE codes AN, DI, FE, HA, NE, SA, SU -> the seven emotions"])
