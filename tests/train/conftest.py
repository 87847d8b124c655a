"""Session caches for the training tests. Crops and frame-model features depend only on the data, the detector
settings and the frame model (both caches key their files on those), so the first test that needs them builds
them cold (that path stays tested) and every later test reads them, instead of each test rebuilding them in its
own tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.data import fixtures
from tests.helpers import CKPLUS, FERPLUS, REPO, SHARED


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


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> dict[str, Path]:
    """Small copies (linked images, same layouts) of the shared sets, for tests of a training or evaluation path
    rather than of a figure: FER+ (1,024 train, 300 valid images), CK+ (the first 24 subjects), TFEID and SFEW
    (every 4th photo of each folder). The figures themselves are checked on the whole sets
    (tests/models/test_shipped_metrics.py). A set that is not here is left out (its tests skip as before)."""
    root = tmp_path_factory.mktemp("small-data")
    out: dict[str, Path] = {}
    if FERPLUS.is_dir():
        out["ferplus"] = fixtures.ferplus_subset(FERPLUS, root / "ferplus", {"FER2013Train": 1024,
                                                                             "FER2013Valid": 300})
    if CKPLUS.is_dir():
        out["ckplus"] = fixtures.ckplus_subset(CKPLUS, root / "ckplus", 24)
    for name in ("tfeid", "sfew"):
        if (SHARED / "data" / name).is_dir():
            out[name] = fixtures.every_nth_subset(SHARED / "data" / name, root / name, 4)
    return out
