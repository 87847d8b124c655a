import numpy as np
import pytest

from emotrace.eval.calibration import expected_calibration_error, fit_temperature, softmax_t


def _sample(n: int, temperature: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose labels are drawn from softmax(logits / temperature): calibrated at exactly that temperature."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, (n, 7))
    p = softmax_t(logits, temperature)
    labels = np.array([rng.choice(7, p=row) for row in p])
    return logits, labels


def test_fit_temperature_recovers_the_true_one():
    logits, labels = _sample(6000, 2.0)
    assert fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.1)


def test_ece_is_small_when_calibrated_and_large_when_overconfident():
    logits, labels = _sample(6000, 2.0, seed=1)
    assert expected_calibration_error(softmax_t(logits, 2.0), labels) < 0.03
    assert expected_calibration_error(softmax_t(logits, 0.5), labels) > 0.1


def test_ece_of_a_perfect_one_hot_predictor_is_zero():
    y = np.arange(10) % 7
    assert expected_calibration_error(np.eye(7)[y], y) == 0.0
