"""Turn what a user typed (path, folder, URL, webcam index, numpy frames) into the right Source.

It lives apart from `base.py` so that the concrete sources import the interface and this module imports them,
with no cycle between the two.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
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
    if isinstance(spec, (list, tuple)) and not spec:
        raise SourceError("no frames given (an empty list)")
    if isinstance(spec, np.ndarray) or (isinstance(spec, (list, tuple)) and spec and isinstance(spec[0], np.ndarray)):
        return ArraySource(spec, **kwargs)
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return WebcamSource(int(spec), **kwargs)
    text = str(spec)
    if text.lower().startswith(STREAM_SCHEMES):
        return StreamSource(text, **kwargs)
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme:
        raise SourceError(f"unsupported URL scheme {scheme.group(1)}:// (supported: "
                          f"{', '.join(s[:-3] for s in STREAM_SCHEMES)}; or a file, folder or webcam index)")
    path = Path(text).expanduser()
    if not path.exists():
        raise SourceError(f"no such file or folder: {text}")
    if path.is_dir():
        return FolderSource(path, **kwargs)
    if path.stat().st_size == 0:
        raise SourceError(f"file is empty: {text}")
    # The content decides, not the name: a JPEG saved as .mp4 is an image, an MP4 saved as .jpg a video.
    if path.suffix.lower() != ".gif" and cv2.haveImageReader(str(path)):
        return ImageSource(path, **kwargs)  # image content, damaged or not: read (or refused) as an image
    if path.suffix.lower() in IMAGE_EXTS:
        try:
            return VideoSource(path, **kwargs)
        except SourceError:
            raise SourceError(f"not a readable image (corrupt or unsupported format): {text}") from None
    return VideoSource(path, **kwargs)
