"""emotrace: per-person, per-frame facial emotion for images, video, streams and webcams.

    import emotrace
    df = emotrace.analyze("video.mp4", out_dir="out")   # one row per (frame, face)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emotrace.labels import EMOTIONS
from emotrace.version import __version__

__all__ = ["EMOTIONS", "Analyzer", "AnalyzerConfig", "__version__", "analyze", "create_model"]

if TYPE_CHECKING:
    from emotrace.analyzer_config import AnalyzerConfig
    from emotrace.api import analyze
    from emotrace.models import create_model
    from emotrace.pipeline import Analyzer


def __getattr__(name: str) -> Any:
    # Heavy imports (torch, OpenCV, mediapipe) happen on first use, so `emotrace --help` answers at once.
    if name == "analyze":
        from emotrace.api import analyze

        return analyze
    if name == "Analyzer":
        from emotrace.pipeline import Analyzer

        return Analyzer
    if name == "AnalyzerConfig":
        from emotrace.analyzer_config import AnalyzerConfig

        return AnalyzerConfig
    if name == "create_model":
        from emotrace.models import create_model

        return create_model
    raise AttributeError(name)
