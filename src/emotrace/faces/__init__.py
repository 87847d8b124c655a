"""Faces: detectors (by name), the tracker that keeps identities, and alignment to the models' crop."""

from emotrace.faces.align import FaceAligner
from emotrace.faces.detectors import FaceDetector, available_detectors, create_detector
from emotrace.faces.tracker import Tracker

__all__ = ["FaceAligner", "FaceDetector", "Tracker", "available_detectors", "create_detector"]
