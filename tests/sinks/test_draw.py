"""Labels in the annotated video scale with its resolution (issue 17, item 13)."""

from __future__ import annotations

import numpy as np

from emotrace.labels import EMOTIONS
from emotrace.results import FrameResult
from emotrace.sinks.draw import draw_result, label_scale
from emotrace.types import Detections, Frame


def _label_height(w: int, h: int) -> int:
    """Rows covered by the label strip above one face box placed at the same relative spot."""
    img = np.zeros((h, w, 3), np.uint8)
    box = np.array([[0.4 * w, 0.4 * h, 0.6 * w, 0.7 * h]], np.float32)
    faces = Detections(boxes=box, scores=np.ones(1, np.float32), keypoints=np.zeros((1, 5, 2), np.float32),
                       track_id=np.array([1]))
    p = np.full((1, len(EMOTIONS)), 0.05, np.float32)
    p[0, 3] = 0.7
    faces.temporal_probs = faces.frame_probs = p
    res = FrameResult(frame=Frame(index=0, timestamp=0.0, image=img), faces=faces)
    out = draw_result(img, res, list(EMOTIONS), bars=False)
    column = out[: int(0.4 * h), int(0.4 * w) + 1]  # above the box, inside the label's left edge
    return int((column.sum(axis=1) > 0).sum())


def test_label_size_follows_the_frame():
    assert label_scale(1280, 720) == 1.0
    assert label_scale(3840, 2160) == 3.0
    assert label_scale(320, 240) == 0.4  # never unreadably small
    small, hd, uhd = _label_height(640, 360), _label_height(1280, 720), _label_height(3840, 2160)
    assert small < hd < uhd
    assert 2.5 <= uhd / hd <= 3.5  # same share of the picture at 4K as at 720p


def test_web_colours_are_generated_from_the_drawing_table():
    """static/colors.js is colors_js()'s output (the colours are stated once, in COLORS), every emotion has one,
    and every page loads it before common.js, which reads it."""
    from pathlib import Path

    from emotrace.sinks import draw

    static = Path(draw.__file__).parents[1] / "web" / "static"
    assert (static / "colors.js").read_text() == draw.colors_js(), "regenerate: see emotrace.sinks.draw.colors_js"
    assert set(EMOTIONS) <= set(draw.COLORS)
    assert '"#dc2828"' in draw.colors_js()  # angry: BGR (40, 40, 220) written as RGB hex
    for page in static.glob("*.html"):
        html = page.read_text()
        if "common.js" in html:
            assert 0 <= html.find("/static/colors.js") < html.find("/static/common.js"), page.name


def test_bar_labels_have_a_filled_backing_on_a_white_frame():
    """Issue 24 (6): the bar labels are white text; on a white door they vanished. Each label now sits on a dark
    filled backing, so the label column beside the face holds dark pixels around the white text."""
    from emotrace.sinks.draw import BAR_BACKING

    w, h = 1280, 720
    img = np.full((h, w, 3), 255, np.uint8)
    box = np.array([[400, 200, 600, 500]], np.float32)
    faces = Detections(boxes=box, scores=np.ones(1, np.float32), keypoints=np.zeros((1, 5, 2), np.float32),
                       track_id=np.array([1]))
    p = np.full((1, len(EMOTIONS)), 0.05, np.float32)
    faces.temporal_probs = faces.frame_probs = p
    res = FrameResult(frame=Frame(index=0, timestamp=0.0, image=img), faces=faces)
    out = draw_result(img, res, list(EMOTIONS), bars=True)
    labels = out[200: 200 + 14 * len(EMOTIONS), 604: 604 + 30]  # the label column right of the box (scale 1.0)
    assert (labels == BAR_BACKING).all(axis=2).mean() > 0.5  # mostly backing
    assert (labels.min(axis=2) > 200).any()  # and the white text on it
