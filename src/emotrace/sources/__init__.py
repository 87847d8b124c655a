"""Where frames come from: image, folder of images, video file, stream URL, webcam, numpy arrays.

`open_source(spec)` picks the right one from what the user typed; each yields `Frame`s in order.
"""

from emotrace.sources.base import Source
from emotrace.sources.dispatch import open_source
from emotrace.sources.images import ArraySource, FolderSource, ImageSource, read_image
from emotrace.sources.video import VideoSource

__all__ = ["ArraySource", "FolderSource", "ImageSource", "Source", "VideoSource", "open_source", "read_image"]
