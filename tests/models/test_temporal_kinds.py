"""Which architectures step on time or look ahead comes from their classes (read by name without building one), and
every shipped record's contract carries what its architecture's class says."""

from __future__ import annotations

import pytest

from emotrace.models.factory import architecture_class, list_models
from emotrace.models.manifest import manifest
from emotrace.models.temporal.kinds import is_offline, is_time_aware
from emotrace.models.temporal.lookahead import LookaheadRNN
from emotrace.models.temporal.offline import offline_model
from emotrace.models.temporal.rnn import TemporalRNN
from emotrace.models.temporal.timed import TimeAwareRNN


def test_every_builder_names_the_class_it_builds():
    assert all(isinstance(architecture_class(n), type) for n in list_models())
    assert architecture_class("emotrace-tlstm") is TimeAwareRNN
    assert architecture_class("emotrace-lookahead-gru") is LookaheadRNN
    assert architecture_class("emotrace-gru") is TemporalRNN


@pytest.mark.parametrize("arch,time_aware,offline", [
    ("emotrace-gru", False, False), ("emotrace-lstm", False, False), ("emotrace-tgru", True, False),
    ("emotrace-tlstm", True, False), ("emotrace-lookahead-gru", True, True), ("emotrace-lookahead-lstm", True, True),
    ("emotrace-cnn-m", False, False), ("seed2-cnn-lstm", False, False),
])
def test_the_class_says_it(arch, time_aware, offline):
    assert (is_time_aware(arch), is_offline(arch)) == (time_aware, offline)


def test_every_shipped_contract_carries_its_class_facts():
    for name, rec in manifest().items():
        assert (rec.contract.time_aware, rec.contract.offline) == (is_time_aware(rec.arch), is_offline(rec.arch)), name


def test_a_trained_model_contract_states_its_class_facts():
    from emotrace.models.contract import ModelContract, contract_of
    from emotrace.models.factory import create_model

    c = contract_of(create_model("emotrace-lookahead-gru", input_dim=8, hidden=4), ["a"] * 7, ["logits"])
    assert c.time_aware and c.offline
    assert ModelContract.from_dict(c.to_dict()) == c
    assert not contract_of(create_model("emotrace-gru", input_dim=8, hidden=4), ["a"] * 7, ["logits"]).time_aware


def test_the_offline_model_is_a_look_ahead_architecture():
    name = offline_model(None)
    if name is None:
        pytest.skip("no look-ahead model ships")
    assert is_offline(manifest()[name].arch)
