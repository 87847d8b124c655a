"""A contact sheet: one row per class with example faces, to see at a glance what a dataset's labels look like."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from emotrace.data.schema import Dataset, FrameFiles, Media, VideoFile


def preview(media: Media) -> np.ndarray:
    """One representative BGR frame: the still, a sequence's last (apex) frame, a video's middle frame."""
    if isinstance(media, FrameFiles):
        from emotrace.sources.images import read_image

        return read_image(media.paths[-1])
    if isinstance(media, VideoFile):
        cap = cv2.VideoCapture(str(media.path), cv2.CAP_FFMPEG)
        try:
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            if n > 1:
                cap.set(cv2.CAP_PROP_POS_FRAMES, n // 2)
            ok, frame = cap.read()
        finally:
            cap.release()
        if not ok or frame is None:
            raise ValueError(f"cannot decode {media.path}")
        return frame
    return media.load()[0]


def contact_sheet(dataset: Dataset, per_class: int = 8, tile: int = 96, seed: int = 0) -> np.ndarray:
    """(rows x tiles) image, random examples per class drawn with `seed`; unreadable ones are left grey."""
    rng = np.random.default_rng(seed)
    labels = dataset.labels()
    rows = [c for c in range(len(dataset.classes)) if (labels == c).any()] + ([-1] if (labels < 0).any() else [])
    label_w = 110
    sheet = np.full((max(1, len(rows)) * (tile + 4) + 4, label_w + per_class * (tile + 4) + 4, 3), 255, np.uint8)
    for r, c in enumerate(rows):
        idx = np.flatnonzero(labels == c)
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False)
        y = 4 + r * (tile + 4)
        name = dataset.classes[c] if c >= 0 else "(none)"
        cv2.putText(sheet, name, (4, y + tile // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(sheet, f"n={len(idx)}", (4, y + tile // 2 + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (90, 90, 90), 1,
                    cv2.LINE_AA)
        for k, i in enumerate(pick):
            x = label_w + k * (tile + 4)
            try:
                img = preview(dataset.samples[int(i)].media)
                sheet[y:y + tile, x:x + tile] = cv2.resize(img, (tile, tile), interpolation=cv2.INTER_AREA)
            except Exception:  # a corrupt file shows as a grey tile rather than ending the sheet
                sheet[y:y + tile, x:x + tile] = 160
    return sheet


def write_contact_sheet(dataset: Dataset, out: str | Path, per_class: int = 8, tile: int = 96, seed: int = 0) -> Path:
    """Write the sheet as PNG through a temporary file, so a failure never leaves half an image."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    img = contact_sheet(dataset, per_class, tile, seed)
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise ValueError("PNG encoding failed")
    tmp = out.with_name(f".{out.name}.part")
    tmp.write_bytes(buf.tobytes())
    tmp.replace(out)
    return out
