"""Outputs stay byte-identical: stored results of the shared media (computed by the analyzer at 082d58b) replayed
through today's sinks give the hashes recorded then (tests/sinks/golden.py says how both were made)."""

import json

from tests.helpers import MEDIA, needs_shared
from tests.sinks.golden import DIGESTS, digests, drawing_digests

GOLDEN = json.loads(DIGESTS.read_text())


def test_tables_summary_and_report_are_byte_identical():
    assert digests() == GOLDEN["tables"]


@needs_shared
def test_drawing_is_pixel_identical():
    assert drawing_digests(MEDIA) == GOLDEN["drawing"]
