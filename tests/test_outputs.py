"""The output registry and the one result schema: every consumer reads names, files and types from them."""

import pandas as pd
import pyarrow.parquet as pq
import pytest

import emotrace
from emotrace.errors import EmotraceError
from emotrace.outputs import (
    ALL_OUTPUTS,
    IN_ALL,
    OUTPUTS,
    WEB_OUTPUTS,
    build_sinks,
    output_file,
    parse_outputs,
    track_of,
)
from emotrace.sinks import column_types, row_columns
from emotrace.sinks.rows import row_shape
from emotrace.web.results import RESULT_FILES, available_formats, timeline_tracks
from tests.helpers import astronaut_frames


def test_parse_outputs():
    assert parse_outputs("all") == IN_ALL == tuple(n for n in ALL_OUTPUTS if n != "landmarks")
    assert parse_outputs(" csv, summary,csv") == ("csv", "summary")
    with pytest.raises(EmotraceError, match="unknown output 'pdf'"):
        parse_outputs("csv,pdf")
    with pytest.raises(EmotraceError, match="outputs must name at least one"):
        parse_outputs(" , ")


def test_files_come_from_the_registry(tmp_path):
    assert output_file("timeline", 7) == "timeline_track7.png" and track_of("timeline", "timeline_track7.png") == 7
    assert track_of("timeline", "summary.json") is None
    for name in WEB_OUTPUTS:
        if "{track}" not in OUTPUTS[name].file:
            assert RESULT_FILES[name][0] == OUTPUTS[name].file
    assert "report" not in RESULT_FILES and "report" in ALL_OUTPUTS
    written = ["emotions.csv", "summary.json", "timeline_track2.png", "report.html"]
    assert available_formats(written) == ["csv", "summary"] and timeline_tracks(written) == [2]
    sinks = build_sinks(tmp_path, ALL_OUTPUTS)
    tables = [n for n in ALL_OUTPUTS if OUTPUTS[n].sink == "TableSink"]
    assert len(sinks) == len(ALL_OUTPUTS) - len(tables) + 1  # the tables share one sink: a frame's rows built once
    assert [t.fmt for t in sinks[0].tables] == tables


def test_schema_types_reach_parquet_and_the_dataframe(tmp_path):
    from emotrace.pipeline import Analyzer

    an = Analyzer()
    df = emotrace.analyze(astronaut_frames(4), tmp_path, outputs=["parquet", "csv"], analyzer=an)
    shape = row_shape(an.describe())
    assert shape["with_people"]  # person linking is on by default: person_id and person_basis are columns
    types = column_types(an.classes, **shape)
    assert list(df.columns) == row_columns(an.classes, **shape) == list(types)
    assert types["person_id"] == "int64" and list(types)[-2:] == ["person_id", "person_basis"]
    schema = pq.read_schema(tmp_path / "emotions.parquet")
    arrow = {"int64": "int64", "float64": "double", "bool": "bool", "string": "string"}
    assert {f.name: str(f.type) for f in schema} == {c: arrow[t] for c, t in types.items()}
    assert str(df["track_id"].dtype) == "Int64" and str(df["frame"].dtype) == "Int64"
    csv = pd.read_csv(tmp_path / "emotions.csv")
    assert list(csv.columns) == list(types) and (csv["file"] == "<array>").all()


def test_the_annotated_photo_is_registered_but_not_choosable():
    assert output_file("image") == "annotated.png" and RESULT_FILES["image"] == ("annotated.png", "image/png",
                                                                                  "annotated.png")
    assert "image" not in ALL_OUTPUTS and "image" not in WEB_OUTPUTS
    with pytest.raises(EmotraceError, match="unknown output 'image'"):
        parse_outputs("csv,image")


def test_no_module_restates_an_output_file_name():
    """Outside the registry, no string in the package's code is a registered output's file name."""
    import ast
    from pathlib import Path

    names = {o.file for o in OUTPUTS.values()} | {o.file.split("{")[0] for o in OUTPUTS.values() if "{" in o.file}
    pkg = Path(emotrace.__file__).parent
    found = [(str(p.relative_to(pkg)), n.value) for p in pkg.rglob("*.py") if p.name != "outputs.py"
             for n in ast.walk(ast.parse(p.read_text())) if isinstance(n, ast.Constant) and n.value in names]
    assert not found, found


def test_summary_tracks_are_one_brief():
    from emotrace.outputs import SUMMARY_TRACK_KEYS, summary_tracks

    track = {k: k for k in SUMMARY_TRACK_KEYS} | {"mean_probabilities": {}, "first_frame": 0}
    assert summary_tracks({"tracks": [track]}) == [{k: k for k in SUMMARY_TRACK_KEYS}]
    assert summary_tracks({}) == []
