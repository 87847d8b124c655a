"""The temporal trainer: it learns to hold a label through noisy embeddings, and its CK+ folds never share a
subject."""

import numpy as np
import pytest

from emotrace.data.rendered import fold_subjects
from emotrace.eval.sequence_features import SequenceFeatures, run_sequences
from emotrace.models.checkpoint import load_model
from emotrace.train.engine import train
from emotrace.train.tasks.temporal import TemporalConfig
from tests.helpers import CKPLUS


def _noisy_sequences(n: int, t: int, rng: np.random.Generator) -> SequenceFeatures:
    """Class c puts a weak signal on embedding unit c under heavy noise; labels change once mid-sequence."""
    labels = np.zeros((n, t), np.int64)
    change = []
    for i in range(n):
        a, b = rng.choice(7, 2, replace=False)
        cut = int(rng.integers(t // 3, 2 * t // 3))
        labels[i, :cut], labels[i, cut:] = a, b
        change.append(np.array([cut]))
    emb = rng.normal(0, 1.0, (n, t, 16)).astype(np.float32)
    emb[np.arange(n)[:, None], np.arange(t)[None], labels] += 0.8
    probs = np.exp(emb[..., :7]) / np.exp(emb[..., :7]).sum(-1, keepdims=True)
    return SequenceFeatures(emb, probs.astype(np.float32), np.eye(7, dtype=np.float32)[labels], labels, change)


def test_the_temporal_model_beats_per_frame_decisions_on_noisy_embeddings(tmp_path, monkeypatch):
    import emotrace.train.tasks.temporal as task_module

    rng = np.random.default_rng(0)
    data, test = _noisy_sequences(256, 40, rng), _noisy_sequences(64, 40, rng)
    empty = data.subset(np.zeros(0, np.int64))
    monkeypatch.setattr(task_module, "prepare_features", lambda cfg: {
        "fer_train": data, "fer_valid": test, "ck_train": empty, "ck_test": empty, "ck_test_labels": [],
        "ck_test_subjects": [], "ck_train_subjects": [], "subjects": {}})
    cfg = TemporalConfig(arch_kwargs={"hidden": 32, "valence_arousal": True}, epochs=30, batch_size=32,
                         lr=0.01, threads=1, out_dir=str(tmp_path / "run"))
    metrics = train(cfg, command="test").metrics
    assert metrics["ferplus_valid_synthetic"]["temporal"]["frame_accuracy"] > 0.5
    model = load_model(tmp_path / "run").model
    out = run_sequences(model, test)
    temporal_acc = (out["probs"].argmax(-1) == test.labels).mean()
    frame_acc = (test.frame_probs.argmax(-1) == test.labels).mean()
    assert out["valence_arousal"].shape == (64, 40, 2)
    assert temporal_acc > frame_acc + 0.15, (temporal_acc, frame_acc)


def test_features_save_and_load_round_trip(tmp_path):
    f = _noisy_sequences(3, 5, np.random.default_rng(1))
    f.save(tmp_path / "f.npz")
    g = SequenceFeatures.load(tmp_path / "f.npz")
    assert np.array_equal(f.embedding, g.embedding) and [c.tolist() for c in g.change_points] == [[c[0]] for c in
                                                                                                 f.change_points]
    both = SequenceFeatures.concat([f, _noisy_sequences(2, 8, np.random.default_rng(2))])
    assert both.labels.shape == (5, 8) and (both.labels[:3, 5:] == -1).all()


@pytest.mark.skipif(not (CKPLUS / "CK+48").is_dir(), reason=f"CK+ not found at {CKPLUS}")
def test_ckplus_folds_partition_the_subjects():
    from emotrace.data.rendered import ckplus_subjects

    subjects = ckplus_subjects(str(CKPLUS))
    folds = [fold_subjects(subjects, 10, k) for k in range(10)]
    assert sum(len(f) for f in folds) == len(subjects) == len(set().union(*folds))
    assert max(len(f) for f in folds) - min(len(f) for f in folds) <= 1
