"""Session caches for the training tests. Crops and frame-model features depend only on the data, the detector
settings and the frame model (both caches key their files on those), so the first test that needs them builds
them cold (that path stays tested) and every later test reads them, instead of each test rebuilding them in its
own tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO


@pytest.fixture(scope="session")
def crop_cache(tmp_path_factory) -> Path:
    """One face-crop cache (`crop_cache=`) for every training test of the session."""
    return tmp_path_factory.mktemp("crops")


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory) -> Callable[[str], Path]:
    """config file name -> its temporal feature cache (`feature_cache=`). The cache's file names do not name the
    frame model or the seed, so the folder does, as the engine's default folder does: configs that render and
    featurise the same way share one folder."""
    root = tmp_path_factory.mktemp("features")

    def folder(config: str) -> Path:
        cfg = yaml.safe_load((REPO / "configs" / config).read_text())
        return root / f"features-{cfg['frame_model']}-{cfg.get('seed', 0)}"

    return folder
