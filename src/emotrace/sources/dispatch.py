"""Turn what a user typed (path, folder, URL, webcam index, numpy frames) into the right Source.

It lives apart from `base.py` so that the concrete sources import the interface and this module imports them,
with no cycle between the two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emotrace.errors import SourceError
from emotrace.sources.base import IMAGE_EXTS, STREAM_SCHEMES, Source
from emotrace.sources.camera import StreamSource, WebcamSource
from emotrace.sources.images import ArraySource, FolderSource, ImageSource
from emotrace.sources.video import VideoSource


def open_source(spec: Any, **kwargs: Any) -> Source:
    """Open what the user named: a path (image, folder, video), a URL, a webcam index, or numpy frames."""
    if isinstance(spec, Source):
        return spec
    if isinstance(spec, np.ndarray) or (isinstance(spec, (list, tuple)) and spec and isinstance(spec[0], np.ndarray)):
        return ArraySource(spec, **kwargs)
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return WebcamSource(int(spec), **kwargs)
    text = str(spec)
    if text.lower().startswith(STREAM_SCHEMES):
        return StreamSource(text, **kwargs)
    path = Path(text).expanduser()
    if not path.exists():
        raise SourceError(f"no such file or folder: {text}")
    if path.is_dir():
        return FolderSource(path, **kwargs)
    if path.stat().st_size == 0:
        raise SourceError(f"file is empty: {text}")
    if path.suffix.lower() in IMAGE_EXTS:
        return ImageSource(path, **kwargs)
    return VideoSource(path, **kwargs)
