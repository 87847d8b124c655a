"""Download names in headers (issue 24, item 8)."""

from __future__ import annotations

from emotrace.web.routes import content_disposition


def _fallback(name: str) -> str:
    return content_disposition("attachment", name).split('filename="')[1].split('"')[0]


def test_the_ascii_fallback_of_a_download_name_stays_readable():
    # Before: "_n_c_d___berl_nge"-like names, one "_" per non-ASCII letter.
    assert _fallback("Ñandú café über Länge_emotions.csv") == "Nandu_cafe_uber_Lange_emotions.csv"
    assert _fallback("视频_emotions.csv") == "emotions.csv"  # nothing Latin: the suffix stays
    assert _fallback("视频") == "download"
    assert _fallback("plain-name_1.csv") == "plain-name_1.csv"
    for name in ("Ñandú café.csv", "a\"b;c.csv", "视频_emotions.csv"):
        assert _fallback(name).isascii() and '"' not in _fallback(name) and ";" not in _fallback(name)
