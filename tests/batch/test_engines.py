"""The same collection gives the same rows on the local engine and on Ray (a local two-CPU Ray started here)."""

import pandas as pd
import pytest

from emotrace.cli import main
from tests.batch import media


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'emotrace[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 1024 * 1024,
             logging_level="WARNING", configure_logging=True)
    yield ray
    ray.shutdown()


def _rows(out):
    rows = pd.read_parquet(out / "rows")
    return rows.sort_values(["item_id", "frame", "track_id"]).reset_index(drop=True)


@pytest.mark.slow
def test_same_rows_on_local_and_ray_engines(tmp_path, capsys, local_ray):
    src = tmp_path / "collection"
    media.videos(src / "v", 3, frames=10)
    media.photos(src / "p", 3)
    media.corrupt(src / "p" / "broken.png")
    code_local = main(["-q", "batch", str(src), "-o", str(tmp_path / "local"), "--workers", "2"])
    code_ray = main(["-q", "batch", str(src), "-o", str(tmp_path / "ray"), "--engine", "ray", "--workers", "2"])
    out = capsys.readouterr().out
    assert code_local == code_ray == 3, out
    assert out.count("7 items: 6 done, 1 failed, 0 skipped") == 2, out
    local, on_ray = _rows(tmp_path / "local"), _rows(tmp_path / "ray")
    assert len(local) >= 3 * 10 + 3
    pd.testing.assert_frame_equal(local, on_ray)
    coll = [pd.read_parquet(tmp_path / d / "collection.parquet").set_index("item_id").sort_index()
            for d in ("local", "ray")]
    cols = ["path", "status", "reason", "frames", "faces", "tracks", "dominant_emotion"]
    pd.testing.assert_frame_equal(coll[0][cols], coll[1][cols])
    assert local_ray.is_initialized()  # the engine used the Ray it found and left it running
    # a rerun on Ray skips everything
    assert main(["-q", "batch", str(src), "-o", str(tmp_path / "ray"), "--engine", "ray"]) == 3
    assert "0 done, 1 failed, 6 skipped" in capsys.readouterr().out


def test_workers_get_the_config_itself_and_leave_it_as_it_is():
    """The engine hands its AnalyzerConfig to each worker (pickled as it is); the worker's thread count goes into
    a copy, so the batch's config (and its settings hash) never changes under it."""
    import pickle

    import cv2
    import torch

    from emotrace.analyzer_config import AnalyzerConfig
    from emotrace.batch.engines import LocalEngine, make_analyzer

    cfg = AnalyzerConfig(min_score=0.6)
    engine = LocalEngine(cfg, workers=1)
    assert engine.config is cfg and pickle.loads(pickle.dumps(cfg)) == cfg
    saved = torch.get_num_threads(), cv2.getNumThreads()
    try:
        analyzer = make_analyzer(cfg, threads=2)  # sets this process's thread counts, as a worker's
    finally:
        torch.set_num_threads(saved[0])
        cv2.setNumThreads(saved[1])
    assert analyzer.config.threads == 2 and analyzer.config.min_score == 0.6
    assert cfg.threads == 0
