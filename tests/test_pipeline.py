"""The pipeline on real media: acceptance checks of the foundation issue, pinned."""

import numpy as np
import pandas as pd
import pytest

import emotrace
from emotrace.faces.detectors import available_detectors
from emotrace.pipeline import Analyzer
from tests.helpers import MEDIA, astronaut_frames, needs_shared

needs_blazeface = pytest.mark.skipif("blazeface" not in available_detectors(), reason="mediapipe not installed")


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer()


def test_numpy_frames_through_the_api(analyzer):
    df = emotrace.analyze(astronaut_frames(6), analyzer=analyzer)
    assert len(df) == 6 and (df["n_faces"] == 1).all() and df["track_id"].nunique() == 1
    probs = df[[f"frame_{c}" for c in emotrace.EMOTIONS]].to_numpy()
    assert np.allclose(probs.sum(1), 1, atol=1e-3)


def test_analyzer_says_which_temporal_stage_runs(analyzer):
    d = analyzer.describe()
    assert d["temporal_stage"] and d["temporal_description"]
    if d["temporal_stage"] == "ema":
        assert "not a trained model" in d["temporal_description"]


def test_the_default_pipeline_runs_the_shipped_default_models(analyzer):
    from emotrace.models.manifest import manifest

    man = manifest()
    d = analyzer.describe()
    frame = d["frame_model"]["name"]
    assert man[frame].role == "frame" and man[frame].default
    from emotrace.models.temporal.offline import offline_model

    temporal = man[d["temporal_stage"]]  # the causal default, or after a file the look-ahead one for files
    live_or_files = temporal.default or d["temporal_stage"] == offline_model(frame)
    assert temporal.role == "temporal" and live_or_files and temporal.frame_model == frame
    assert d["temporal_mode"] == ("causal" if temporal.default else "offline")
    df = emotrace.analyze(astronaut_frames(6), analyzer=analyzer)
    assert df[["valence", "arousal"]].notna().all().all()
    assert df[["valence", "arousal"]].abs().le(1).all().all()


def test_batching_does_not_change_results():
    frames = astronaut_frames(8)
    a = emotrace.analyze(frames, batch_frames=1, detect_every=1)
    b = emotrace.analyze(frames, batch_frames=8, detect_every=1)
    cols = [c for c in a.columns if c.startswith(("frame_", "temporal_")) and c != "frame_label"]
    assert np.allclose(a[cols].to_numpy(float), b[cols].to_numpy(float), atol=1e-4)


@needs_shared
@needs_blazeface
def test_single_person_video_keeps_one_track(analyzer, tmp_path):
    df = emotrace.analyze(str(MEDIA / "WolfgangLanger_Pexels.mp4"), out_dir=tmp_path, analyzer=analyzer)
    per_frame = df.groupby("frame")["n_faces"].max()
    assert len(per_frame) == 472
    assert (per_frame > 0).mean() >= 0.95
    assert df["track_id"].dropna().nunique() == 1
    for name in ["emotions.csv", "emotions.parquet", "emotions.jsonl", "annotated.mp4", "summary.json",
                 "timeline_track1.png"]:
        assert (tmp_path / name).stat().st_size > 0, name
    assert pd.read_parquet(tmp_path / "emotions.parquet").shape == df.shape


@needs_shared
@needs_blazeface
def test_multi_face_photo_gives_one_row_per_face(analyzer):
    df = emotrace.analyze(str(MEDIA / "multi_face.jpg"), analyzer=analyzer)
    assert len(df) == 5 and df["track_id"].nunique() == 5 and (df["n_faces"] == 5).all()


def _presence(analyzer, name):
    df = emotrace.analyze(str(MEDIA / name), analyzer=analyzer)
    return df.groupby("frame")["n_faces"].max().to_numpy() > 0


@needs_shared
@needs_blazeface
def test_face_leaving_is_seen_where_it_leaves(analyzer):
    # Looked at frame by frame: the face is on frames 0-71, frame 72 is black, then a cartoon sky follows.
    present = _presence(analyzer, "face_noface.mov")
    assert present[:70].all()
    last = int(np.flatnonzero(present).max())
    assert 69 <= last <= 74
    assert not present[75:].any()


@needs_shared
@needs_blazeface
def test_face_arriving_is_seen_where_it_arrives(analyzer):
    # Looked at frame by frame: cartoon title up to frame 94, the face from frame 95 or 96 on.
    present = _presence(analyzer, "noface_face.mov")
    first = int(np.flatnonzero(present).min())
    assert 93 <= first <= 98
    assert present[first + 3:167].all()


@needs_shared
@needs_blazeface
def test_video_without_faces_lists_its_frames(analyzer):
    df = emotrace.analyze(str(MEDIA / "no_face.mp4"), analyzer=analyzer)
    assert df["frame"].nunique() == len(df) >= 90
    assert (df["n_faces"] == 0).all() and df["track_id"].isna().all()


@needs_shared
@needs_blazeface
def test_no_track_crosses_a_shot_cut(analyzer):
    # short_hamilton_clip.mp4 cuts at frames 20, 82 and 211 (histogram distance 0.36-0.48; within shots < 0.10).
    df = emotrace.analyze(str(MEDIA / "short_hamilton_clip.mp4"), analyzer=analyzer).dropna(subset=["track_id"])
    for _, g in df.groupby("track_id"):
        first, last = g["frame"].min(), g["frame"].max()
        assert not any(first < cut <= last for cut in (20, 82, 211)), (first, last)


def test_overrides_leave_the_callers_config_untouched():
    from emotrace.analyzer_config import AnalyzerConfig

    cfg = AnalyzerConfig(detect_every=2)
    an = Analyzer(cfg, detect_every=5, batch_frames=1)
    assert (cfg.detect_every, cfg.batch_frames) == (2, AnalyzerConfig().batch_frames)
    assert (an.config.detect_every, an.config.batch_frames) == (5, 1)
    with pytest.raises(TypeError, match="unknown Analyzer option 'nope'"):
        Analyzer(cfg, nope=1)
    an.close()


def test_the_source_says_what_it_is_and_the_analyzer_decides(analyzer, tmp_path):
    import cv2

    from emotrace.sources import FolderSource, open_source

    frames = astronaut_frames(2)
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"p{i}.png"), f)
    photos = FolderSource(tmp_path)
    assert photos.is_still and not photos.is_live
    desc = analyzer.start(photos)
    assert desc["temporal_stage"] == "none"
    assert [[r.faces.track_id.tolist() for r in g] for g in analyzer.result_groups(iter(photos))] == [[[1], [2]]]
    seq = open_source(frames)
    assert not seq.is_still
    assert analyzer.start(seq)["temporal_stage"] != "none"
