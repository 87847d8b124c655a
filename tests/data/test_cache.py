"""The face-crop cache: real detection on real video files, reuse on rerun, and nothing lost after a crash."""

from __future__ import annotations

import numpy as np
import pytest

from emotrace.data.cache import CropCache, CropSettings
from emotrace.data.readers import open_dataset
from emotrace.errors import EmotraceError
from tests.data import fixtures


def test_video_dataset_is_detected_aligned_and_reused(tmp_path):
    ds = open_dataset(fixtures.write_ravdess(tmp_path / "ravdess"))
    cache = CropCache(tmp_path / "cache", CropSettings(size=48, detector="auto"))
    report = cache.prepare(ds, workers=2)
    assert (report.done, report.reused, report.failed, report.no_face) == (3, 0, 0, 0)
    arrays = cache.load(ds.samples[0].media)
    assert arrays["crops"].shape == (8, 48, 48, 3) and arrays["crops"].dtype == np.uint8
    assert arrays["found"].all()
    assert arrays["boxes"][0, 2] > arrays["boxes"][0, 0]
    # the aligned crop is a face, not background: the middle is brighter-textured than a flat border
    assert arrays["crops"][0].std() > 20
    assert len(cache.entries()) == 3

    again = cache.prepare(ds, workers=1)
    assert (again.done, again.reused) == (0, 3)


def test_crash_half_way_loses_nothing_written(tmp_path):
    ds = open_dataset(fixtures.write_folders(tmp_path / "folders"))
    settings = CropSettings(size=32, align="never")
    cache = CropCache(tmp_path / "cache", settings)
    assert cache.prepare(ds, workers=1).done == len(ds)
    # Simulate a crash: one sample's file never got written, the manifest's last line is torn, a part file is left.
    lost_key = cache.key(ds.samples[0].media)
    sharing = sum(cache.key(s.media) == lost_key for s in ds.samples)  # identical images share one crop file
    lost = cache.path(lost_key)
    lost.unlink()
    with open(cache.manifest_path, "a") as fh:
        fh.write('{"dataset": "folders", "id": "tr')
    (lost.parent / f".{lost.name}.123.part").write_bytes(b"half")
    report = CropCache(tmp_path / "cache", settings).prepare(ds, workers=1)
    assert (report.done, report.reused) == (sharing, len(ds) - sharing)
    assert cache.load(ds.samples[0].media)["crops"].shape == (1, 32, 32, 3)
    assert len(cache.entries()) == len(ds)


def test_changed_settings_do_not_reuse_and_missing_entries_error(tmp_path):
    ds = open_dataset(fixtures.write_folders(tmp_path / "folders"))
    a = CropCache(tmp_path / "cache", CropSettings(size=32, align="never"))
    b = CropCache(tmp_path / "cache", CropSettings(size=40, align="never", gray=True))
    a.prepare(ds, workers=1)
    assert b.prepare(ds, workers=1).done == len(ds)
    assert b.load(ds.samples[0].media)["crops"].shape == (1, 40, 40)
    with pytest.raises(EmotraceError, match="run `emotrace data prepare`"):
        CropCache(tmp_path / "other").load(ds.samples[0].media)
