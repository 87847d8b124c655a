"""Import MediaPipe's face detection without the rest of `mediapipe.solutions` and `mediapipe.tasks`.

`mediapipe/__init__.py` imports every solution, and `drawing_utils` among them imports matplotlib.pyplot: about
0.5 s of a 0.65 s import on a small CPU, for plotting code the detector never runs. It also imports the Tasks API
(audio, text, vision, genai: 0.08 s more), which the solutions never use. Before mediapipe is first imported, a
finder makes `mediapipe.python.solutions` a package that imports only `face_detection`, and `mediapipe.tasks.python`
one that imports nothing; both load every other submodule when first touched (`mediapipe.solutions.face_mesh`,
`mediapipe.tasks.python.vision` still work). The option protos the full import registers are registered too, so
detections stay identical (tests/faces/test_mediapipe_import.py compares them with the full import's).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from typing import Any

_PACKAGE = "mediapipe.python.solutions"
_TASKS = "mediapipe.tasks.python"

# The calculator-option protos that the skipped solution modules import. Importing a *_pb2 module registers its
# options extension, and the graph a solution builds applies only options whose extension is registered: without
# non_max_suppression_calculator_pb2, BlazeFace's weighted NMS options are dropped and boxes move by up to 5 px
# (single_face.jpg). The full import registers all of these, so they are imported here too (cheap: no plotting).
_OPTION_PROTOS = (
    "mediapipe.calculators.core.constant_side_packet_calculator_pb2",
    "mediapipe.calculators.core.gate_calculator_pb2",
    "mediapipe.calculators.core.split_vector_calculator_pb2",
    "mediapipe.calculators.image.warp_affine_calculator_pb2",
    "mediapipe.calculators.tensor.image_to_tensor_calculator_pb2",
    "mediapipe.calculators.tensor.inference_calculator_pb2",
    "mediapipe.calculators.tensor.tensors_to_classification_calculator_pb2",
    "mediapipe.calculators.tensor.tensors_to_detections_calculator_pb2",
    "mediapipe.calculators.tensor.tensors_to_floats_calculator_pb2",
    "mediapipe.calculators.tensor.tensors_to_landmarks_calculator_pb2",
    "mediapipe.calculators.tensor.tensors_to_segmentation_calculator_pb2",
    "mediapipe.calculators.tflite.ssd_anchors_calculator_pb2",
    "mediapipe.calculators.util.association_calculator_pb2",
    "mediapipe.calculators.util.collection_has_min_size_calculator_pb2",
    "mediapipe.calculators.util.detection_label_id_to_text_calculator_pb2",
    "mediapipe.calculators.util.detections_to_rects_calculator_pb2",
    "mediapipe.calculators.util.landmark_projection_calculator_pb2",
    "mediapipe.calculators.util.landmarks_refinement_calculator_pb2",
    "mediapipe.calculators.util.landmarks_smoothing_calculator_pb2",
    "mediapipe.calculators.util.local_file_contents_calculator_pb2",
    "mediapipe.calculators.util.logic_calculator_pb2",
    "mediapipe.calculators.util.non_max_suppression_calculator_pb2",
    "mediapipe.calculators.util.rect_transformation_calculator_pb2",
    "mediapipe.calculators.util.thresholding_calculator_pb2",
    "mediapipe.calculators.util.visibility_smoothing_calculator_pb2",
    "mediapipe.framework.tool.switch_container_pb2",
    "mediapipe.modules.holistic_landmark.calculators.roi_tracking_calculator_pb2",
    "mediapipe.modules.objectron.calculators.annotation_data_pb2",
    "mediapipe.modules.objectron.calculators.frame_annotation_to_rect_calculator_pb2",
    "mediapipe.modules.objectron.calculators.lift_2d_frame_annotation_to_3d_calculator_pb2",
)


class _LazyPackages(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads the lazy packages only (package name -> its folder); everything else goes to the normal
    finders."""

    def __init__(self, folders: dict[str, str]) -> None:
        self.folders = folders

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name not in self.folders:
            return None
        spec = importlib.machinery.ModuleSpec(name, self, is_package=True)
        spec.submodule_search_locations = [self.folders[name]]
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        package = module.__name__

        def __getattr__(name: str) -> Any:  # noqa: N807 - a module's __getattr__
            if name.startswith("__"):
                raise AttributeError(name)
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError:
                raise AttributeError(name) from None

        module.__getattr__ = __getattr__  # type: ignore[attr-defined]
        if package == _PACKAGE:
            for name in _OPTION_PROTOS:
                importlib.import_module(name)
            importlib.import_module(f"{_PACKAGE}.face_detection")  # as the real __init__ does, binding what it binds


def _install() -> None:
    """Put the finder first (once, and only before mediapipe is imported)."""
    if "mediapipe" in sys.modules or any(isinstance(f, _LazyPackages) for f in sys.meta_path):
        return
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return
    root = list(spec.submodule_search_locations)[0]
    sys.meta_path.insert(0, _LazyPackages({_PACKAGE: f"{root}/python/solutions", _TASKS: f"{root}/tasks/python"}))


def face_detection_module() -> Any:
    """`mediapipe.python.solutions.face_detection`, imported without matplotlib."""
    _install()
    return importlib.import_module(f"{_PACKAGE}.face_detection")


def vision_tasks() -> tuple[Any, Any]:
    """`mediapipe.tasks.python.vision` and `mediapipe.Image` (the Face Landmarker's API), imported without
    matplotlib."""
    _install()
    vision = importlib.import_module(f"{_TASKS}.vision")
    return vision, importlib.import_module("mediapipe").Image
