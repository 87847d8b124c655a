"""People across files in `emotrace batch` (issue 25 B): the same man in two cut videos is one collection person,
the other man another; a manifest identity column wins over faces; linking off and old records keep per-item ids."""

import json

import pandas as pd
import pytest

from emotrace.batch.persons import OLD_RECORD
from emotrace.cli import main
from tests.helpers import MEDIA, SHARED, needs_shared, write_video
from tests.test_pipeline_people import _frames

pytest.importorskip("dlib", reason="person linking needs dlib-bin (scripts/setup.sh installs it)")

LONG, SHORT = 20, 15  # frames per shot at 10 fps (each more than the 1 s a track's person is decided from)
# Each file: the man of WolfgangLanger_Pexels.mp4 (the longer shot: each file's main person), a cut, another man.
FILES = {"a.mp4": [("WolfgangLanger_Pexels.mp4", 0, LONG), ("single_face.mp4", 0, SHORT)],
         "b.mp4": [("single_face.mp4", 40, SHORT), ("WolfgangLanger_Pexels.mp4", 30, LONG)]}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    if not MEDIA.is_dir():
        pytest.skip("needs ../shared media")
    root = tmp_path_factory.mktemp("people")
    (root / "clips").mkdir()
    for name, shots in FILES.items():
        write_video(root / "clips" / name, [f for file, start, n in shots for f in _frames(file, start, n)], fps=10.0)
    return root


def _batch(capsys, *args):
    code = main(["-q", "batch", *args, "--workers", "1"])
    _, err = capsys.readouterr()
    assert code == 0, err


def _who(out) -> pd.DataFrame:
    """person_items.parquet with who each per-item person is (by the shot it starts in)."""
    items = pd.read_parquet(out / "person_items.parquet")
    items["file"] = items["path"].map(lambda p: p.rsplit("/", 1)[-1])
    first = {name: shots[0][0] for name, shots in FILES.items()}
    items["who"] = [first[f] if s < (LONG if first[f].startswith("Wolf") else SHORT) else
                    ({"WolfgangLanger_Pexels.mp4", "single_face.mp4"} - {first[f]}).pop()
                    for f, s in zip(items["file"], items["start_s"] * 10, strict=True)]
    return items


@needs_shared
def test_one_man_over_two_files_is_one_collection_person(folder, tmp_path, capsys):
    out = tmp_path / "out"
    _batch(capsys, str(folder / "clips"), "-o", str(out))
    items = _who(out)
    assert sorted(items.groupby("file").size()) == [2, 2], items  # two people per file
    ids = items.groupby("who")["collection_person_id"].agg(set)
    assert ids["WolfgangLanger_Pexels.mp4"] == {ids["WolfgangLanger_Pexels.mp4"].copy().pop()}  # one id over files
    assert len(ids["single_face.mp4"]) == 1 and not ids["single_face.mp4"] & ids["WolfgangLanger_Pexels.mp4"]
    persons = pd.read_parquet(out / "persons.parquet").set_index("collection_person_id")
    wolf = persons.loc[next(iter(ids["WolfgangLanger_Pexels.mp4"]))]
    assert wolf["items"] == 2 and wolf["basis"] == "face" and wolf["frames"] >= 2 * LONG * 0.8
    coll = pd.read_parquet(out / "collection.parquet")
    assert all(len(v) == 2 for v in coll["collection_person_ids"]) and coll["persons_note"].isna().all()
    assert "People across items (2)" in (out / "report.html").read_text()
    first = items[["item_id", "person_id", "collection_person_id"]].values.tolist()

    # Linking across files off: every item's persons stay apart; back on, the same ids (rebuilt, not analysed).
    _batch(capsys, str(folder / "clips"), "-o", str(out), "--link-distance", "0")
    assert pd.read_parquet(out / "person_items.parquet")["collection_person_id"].nunique() == 4
    _batch(capsys, str(folder / "clips"), "-o", str(out))
    assert pd.read_parquet(out / "person_items.parquet")[
        ["item_id", "person_id", "collection_person_id"]].values.tolist() == first

    # An item recorded before descriptors were kept: not linked, and the collection says so.
    rec_path = out / "items" / coll["item_id"].iloc[0] / "item.json"
    rec = json.loads(rec_path.read_text())
    del rec["persons"]
    rec_path.write_text(json.dumps(rec))
    _batch(capsys, str(folder / "clips"), "-o", str(out))
    coll = pd.read_parquet(out / "collection.parquet").set_index("item_id")
    assert coll.loc[rec["id"], "persons_note"] == OLD_RECORD and coll.loc[rec["id"], "collection_person_ids"] is None
    assert set(pd.read_parquet(out / "person_items.parquet")["item_id"]) == set(coll.index) - {rec["id"]}


@needs_shared
def test_a_manifest_identity_wins_over_faces(folder, tmp_path, capsys):
    # Both files' main person is the same man by face; the manifest says they are two participants.
    manifest = tmp_path / "m.csv"
    pd.DataFrame({"path": [str(folder / "clips" / n) for n in FILES], "participant": ["P1", "P2"]}).to_csv(
        manifest, index=False)
    out = tmp_path / "out"
    _batch(capsys, str(manifest), "-o", str(out), "--identity-column", "participant")
    items = _who(out)
    wolf = items[items["who"] == "WolfgangLanger_Pexels.mp4"]
    assert sorted(wolf["identity"]) == ["P1", "P2"] and wolf["collection_person_id"].nunique() == 2
    assert items[items["who"] == "single_face.mp4"]["identity"].isna().all()
    persons = pd.read_parquet(out / "persons.parquet")
    assert sorted(persons["identity"].dropna()) == ["P1", "P2"]
    assert set(persons.loc[persons["identity"].notna(), "basis"]) == {"identity"}


def test_an_unknown_identity_column_is_a_one_line_error(tmp_path, capsys):
    manifest = tmp_path / "m.csv"
    pd.DataFrame({"path": [str(tmp_path / "x.mp4")], "who": ["P1"]}).to_csv(manifest, index=False)
    code = main(["-q", "batch", str(manifest), "-o", str(tmp_path / "out"), "--identity-column", "participant"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--identity-column 'participant' is not a manifest column (have: who)" in err
    assert len(err.splitlines()) == 1


TFEID = SHARED / "data" / "tfeid"


@pytest.mark.skipif(not TFEID.is_dir(), reason=f"TFEID photos not found at {TFEID}")
def test_photos_of_one_performer_across_items_are_one_collection_person(tmp_path, capsys):
    """Each photo is an item; their faces' descriptors link them: two performers' neutral and happy photos."""
    photos = tmp_path / "photos"
    photos.mkdir()
    chosen = {"01": [], "05": []}
    for emotion in ("neutral", "happy"):
        for f in sorted((TFEID / emotion).glob("*.jpg")):
            if f.name[:2] in chosen and sum(c.parent.name == emotion for c in chosen[f.name[:2]]) < 2:
                chosen[f.name[:2]].append(f)
    for who, files in chosen.items():
        for f in files:
            (photos / f"{who}_{f.parent.name}_{f.name}").symlink_to(f)
    out = tmp_path / "out"
    _batch(capsys, str(photos), "-o", str(out))
    items = pd.read_parquet(out / "person_items.parquet")
    items["who"] = items["path"].map(lambda p: p.rsplit("/", 1)[-1][:2])
    assert len(items) == 8 and set(items["person_basis"]) == {"photo"} and set(items["linked_by"]) == {"face"}
    ids = items.groupby("who")["collection_person_id"].agg(set)
    assert len(ids["01"]) == 1 and len(ids["05"]) == 1 and ids["01"] != ids["05"], items
    persons = pd.read_parquet(out / "persons.parquet")
    assert sorted(persons["items"]) == [4, 4]
