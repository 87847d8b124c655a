"""The `temporal` grammar is parsed once (`TemporalSpec.parse`): the config check and `create_temporal` accept and
refuse the same specs with the same messages; which models step on time or look ahead is what their classes say."""

from __future__ import annotations

import re

import pytest

from emotrace.analyzer_config import AnalyzerConfig
from emotrace.errors import EmotraceError
from emotrace.models.manifest import manifest
from emotrace.models.temporal.spec import TemporalSpec

SHIPPED_TEMPORAL = sorted(n for n, r in manifest().items() if r.role == "temporal")
SHIPPED_FRAME = sorted(n for n, r in manifest().items() if r.role == "frame")


@pytest.mark.parametrize("text,spec", [
    ("auto", TemporalSpec("auto")),
    ("ema", TemporalSpec("ema")),
    ("ema:0.3", TemporalSpec("ema", value=0.3)),
    ("hmm:2", TemporalSpec("hmm", value=2.0)),
    ("+lookahead", TemporalSpec("auto", lookahead=True)),
    ("hmm:1e-1+lookahead", TemporalSpec("hmm", value=0.1, lookahead=True)),
])
def test_parse(text, spec):
    assert TemporalSpec.parse(text) == spec


def test_parse_names_and_folders(tmp_path):
    for name in SHIPPED_TEMPORAL:
        assert TemporalSpec.parse(name + "+lookahead") == TemporalSpec("model", ref=name, lookahead=True)
    assert TemporalSpec.parse(str(tmp_path)) == TemporalSpec("model", ref=str(tmp_path))


@pytest.mark.parametrize("text,message", [
    ("ema:0", "temporal 'ema:0': the time constant must be a number of seconds above 0 (ema:0.4)"),
    ("ema:-1+lookahead", "temporal 'ema:-1+lookahead': the time constant must be a number of seconds above 0"),
    ("hmm:fast", "temporal 'hmm:fast': the switch rate must be a number of label switches per second above 0"),
    ("hmm:inf", "the switch rate must be"),
    ("ema:nan", "the time constant must be"),
    ("bogus", "temporal must be one of auto, ema, ema:<seconds>, hmm"),
    ("", "temporal must be one of"),
    (None, "temporal must be one of"),
    (3, "temporal must be one of"),
    ("a temporal training run folder", "temporal must be one of"),
])
def test_parse_refuses_with_one_line(text, message):
    with pytest.raises(EmotraceError, match=re.escape(message)) as err:
        TemporalSpec.parse(text)
    assert "\n" not in str(err.value)


def _outcome(fn, text):
    try:
        fn(text)
    except EmotraceError as e:
        return str(e)
    return "ok"


SPECS = ["auto", "ema", "hmm", "ema:0.25", "hmm:3", "+lookahead", "ema+lookahead", "hmm:0.5+lookahead", "ema:0",
         "ema:-2", "hmm:x", "hmm:inf", "bogus", "", None, 7, "bogus+lookahead", *SHIPPED_TEMPORAL,
         *(n + "+lookahead" for n in SHIPPED_TEMPORAL), *SHIPPED_FRAME]


@pytest.mark.parametrize("text", SPECS)
def test_the_config_check_and_the_factory_accept_and_refuse_the_same_specs(text):
    from emotrace.models.temporal.factory import create_temporal

    assert _outcome(lambda t: AnalyzerConfig(temporal=t), text) == _outcome(create_temporal, text)


def test_a_shipped_frame_model_is_not_a_temporal_stage():
    if not SHIPPED_FRAME:
        pytest.skip("no shipped frame model")
    text = f"temporal '{SHIPPED_FRAME[0]}' is not a temporal model (its role is 'frame')"
    with pytest.raises(EmotraceError, match=re.escape(text)):
        AnalyzerConfig(temporal=SHIPPED_FRAME[0])
