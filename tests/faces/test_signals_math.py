"""The pure parts of faces/signals.py: head pose from a facial transformation matrix and the quality flags (no
MediaPipe needed)."""

import math

import numpy as np
import pytest

from emotrace.faces.signal_names import BLENDSHAPES
from emotrace.faces.signals import CLOSED_BLINK, DOWN_PITCH, PROFILE_YAW, head_pose, quality_flags

MIRROR = np.diag([-1.0, 1.0, 1.0, 1.0])  # x -> -x in MediaPipe's camera coordinates (a mirrored image)


def rx(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])


def ry(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])


def rz(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])


def matrix(r: np.ndarray, t: tuple[float, float, float] = (1.0, -2.0, -40.0)) -> np.ndarray:
    """A 4x4 facial transformation matrix with rotation r and a translation in front of the camera."""
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = r, t
    return m


def test_frontal_face_has_zero_pose():
    assert head_pose(matrix(np.eye(3))) == pytest.approx([0, 0, 0], abs=1e-6)


def test_signs_of_each_axis():
    # Rotating about y by +30 turns the nose (+z, towards the camera) to +x: the image's right.
    assert head_pose(matrix(ry(30))) == pytest.approx([30, 0, 0], abs=1e-4)
    # Rotating about x by -20 lifts the nose to +y (y up): pitch > 0 is looking up.
    assert head_pose(matrix(rx(-20))) == pytest.approx([0, 20, 0], abs=1e-4)
    assert head_pose(matrix(rx(25)))[1] == pytest.approx(-25, abs=1e-4)
    # About z by +15: counter-clockwise in the image.
    assert head_pose(matrix(rz(15))) == pytest.approx([0, 0, 15], abs=1e-4)


@pytest.mark.parametrize("yaw,pitch,roll", [(30, 10, 5), (-40, -15, 20), (5, 25, -12), (60, 0, 0), (0, -30, 8)])
def test_mirroring_x_gives_minus_yaw_same_pitch_minus_roll(yaw: float, pitch: float, roll: float):
    m = matrix(rz(roll) @ ry(yaw) @ rx(-pitch))
    p = head_pose(m)
    q = head_pose(MIRROR @ m @ MIRROR)
    assert q[0] == pytest.approx(-p[0], abs=1e-4)
    assert q[1] == pytest.approx(p[1], abs=1e-4)
    assert q[2] == pytest.approx(-p[2], abs=1e-4)
    if yaw:
        assert np.sign(p[0]) == np.sign(yaw)
    assert p.dtype == np.float32 and p.shape == (3,)


def blend(blink_left: float = 0.0, blink_right: float = 0.0) -> np.ndarray:
    bs = np.zeros(len(BLENDSHAPES), np.float32)
    bs[BLENDSHAPES.index("eyeBlinkLeft")], bs[BLENDSHAPES.index("eyeBlinkRight")] = blink_left, blink_right
    return bs


def test_quality_flags():
    assert quality_flags(np.array([0, 0, 0.0]), blend()) == ""
    assert quality_flags(np.array([PROFILE_YAW + 1, 0, 0.0]), blend()) == "profile"
    assert quality_flags(np.array([-(PROFILE_YAW + 1), 0, 0.0]), blend()) == "profile"
    assert quality_flags(np.array([PROFILE_YAW, 0, 0.0]), blend()) == ""  # at the limit: still frontal enough
    assert quality_flags(np.array([0, DOWN_PITCH - 1, 0.0]), blend()) == "looking_down"
    assert quality_flags(np.array([0, -DOWN_PITCH + 1, 0.0]), blend()) == ""  # looking up is not flagged
    closed = CLOSED_BLINK + 0.1
    assert quality_flags(np.array([0, 0, 0.0]), blend(closed, closed)) == "eyes_closed"
    assert quality_flags(np.array([0, 0, 0.0]), blend(closed, 0.1)) == ""  # a wink is not closed eyes
    assert quality_flags(np.array([50, -30, 0.0]), blend(closed, closed)) == "profile|looking_down|eyes_closed"
