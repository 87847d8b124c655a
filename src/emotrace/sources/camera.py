"""Live sources: a webcam by index and a network stream by URL (RTSP, RTMP, HTTP, ...)."""

from __future__ import annotations

from emotrace.errors import SourceError
from emotrace.sources.video import CaptureSource, open_capture


class WebcamSource(CaptureSource):
    """A local camera by index (0 = default). Timestamps are wall-clock seconds since the first frame."""

    is_live = True

    def __init__(self, index: int) -> None:
        try:
            cap = open_capture(index, f"webcam {index}")
        except SourceError:
            raise SourceError(f"cannot open webcam {index} (no such camera, or it is in use)") from None
        ok, _ = cap.read()
        if not ok:
            cap.release()
            raise SourceError(f"webcam {index} opened but gives no frames")
        super().__init__(cap, f"webcam:{index}")
        self.frame_count = None


class StreamSource(CaptureSource):
    """A network stream; gives up with a clear message when the URL does not answer within the timeout."""

    is_live = True

    def __init__(self, url: str, open_timeout_ms: int = 10000) -> None:
        try:
            cap = open_capture(url, f"stream {url}", open_timeout_ms=open_timeout_ms)
        except SourceError:
            raise SourceError(f"cannot open stream {url} (unreachable, refused, or not a video stream)") from None
        super().__init__(cap, url)
        self.frame_count = None
