"""Collection linking over stored records, without media: descriptors of another model are never compared."""

import numpy as np

from emotrace.batch.persons import link_collection


def _rec(item: str, descriptor: list[float] | None) -> dict:
    person = {"person_id": 1, "descriptor": descriptor, "frames": 10, "tracks": [1], "seconds": 1.0, "start_s": 0.0,
              "end_s": 1.0, "dominant_emotion": "neutral", "label_counts": {"neutral": 10}, "person_basis": "face"}
    return {"id": item, "path": f"/{item}.mp4", "meta": {}, "analyzer": {"people": 0.8}, "persons": [person]}


def test_descriptors_of_another_length_are_linked_by_nothing_but_identity():
    v = np.zeros(1024)
    v[0] = 1.0
    old = [1.0] + [0.0] * 127  # an item analysed when the descriptor was dlib's 128-d one
    recs = [_rec("a", v.tolist()), _rec("b", v.tolist()), _rec("c", old)]
    got = link_collection(recs, {"a", "b", "c"}, ["neutral"], 0.8)
    by_item = {row["item_id"]: row for row in got.items}
    assert by_item["a"]["collection_person_id"] == by_item["b"]["collection_person_id"]
    assert by_item["c"]["collection_person_id"] != by_item["a"]["collection_person_id"]
    assert [by_item[k]["linked_by"] for k in "abc"] == ["face", "face", None]
