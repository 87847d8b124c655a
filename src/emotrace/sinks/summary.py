"""summary.json: per track, when it was seen, its dominant emotion and the distribution of labels; plus how the
run was made (source, stages, command, version, commit). Kept as running counts, so memory stays flat. With person
linking on, each track names its `person_id` and `persons` lists each person with its tracks inside and its emotions
over all its frames (`outputs.SUMMARY_PERSON_KEYS` is the brief consumers show); with linking off there is no
`persons` and the tracks are the result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from emotrace.results import FrameResult
from emotrace.sinks.base import Sink, atomic_path, discard, publish


class SummarySink(Sink):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.tracks: dict[int, dict[str, Any]] = {}
        self.frames = 0
        self.frames_with_faces = 0
        self.last_t = 0.0

    def write(self, result: FrameResult) -> None:
        self.frames += 1
        self.last_t = float(result.frame.timestamp)
        faces = result.records()
        if faces:
            self.frames_with_faces += 1
        for face in faces:
            tid = face.track_id
            tr = self.tracks.get(tid)
            t = float(result.frame.timestamp)
            if tr is None:
                k = len(self.meta.classes)
                tr = self.tracks[tid] = {"first": t, "last": t, "frames": 0, "counts": np.zeros(k, np.int64),
                                         "sum": np.zeros(k), "first_frame": result.frame.index,
                                         "file": result.frame.source}
            tr["last"] = t
            tr["last_frame"] = result.frame.index
            tr["frames"] += 1
            tr["counts"][face.top] += 1
            tr["sum"] += face.temporal_probs
            if face.person_id is not None:
                tr["person"] = (face.person_id, face.person_basis)
            if face.signals is not None:
                _add_signals(tr, face.signals, face.top, len(self.meta.classes))

    def build(self) -> dict[str, Any]:
        classes = self.meta.classes
        tracks = []
        for tid, tr in sorted(self.tracks.items()):
            n = max(1, tr["frames"])
            dist = {c: round(float(tr["counts"][k] / n), 4) for k, c in enumerate(classes)}
            tracks.append({
                "track_id": tid, "file": tr["file"], "first_frame": tr["first_frame"],
                "last_frame": tr.get("last_frame", tr["first_frame"]),
                "start_s": round(tr["first"], 3), "end_s": round(tr["last"], 3),
                "duration_s": round(tr["last"] - tr["first"], 3), "frames": tr["frames"],
                "dominant_emotion": classes[int(np.argmax(tr["counts"]))],
                "label_distribution": dist,
                "mean_probabilities": {c: round(float(tr["sum"][k] / n), 4) for k, c in enumerate(classes)},
            })
            if "signals" in tr:
                tracks[-1]["signals"] = _signals_brief(tr["signals"], classes)
            if "person" in tr:
                tracks[-1].update(person_id=tr["person"][0], person_basis=tr["person"][1])
        persons = _persons(self.tracks, classes)
        return {"source": self.meta.source, "frames": self.frames, "frames_with_faces": self.frames_with_faces,
                "duration_s": round(self.last_t, 3), "complete": self.meta.incomplete is None,
                "incomplete_reason": self.meta.incomplete, "tracks": tracks, "analyzer": self.meta.analyzer,
                "provenance": self.meta.provenance, **({"persons": persons} if persons else {})}

    def close(self) -> list[Path]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = atomic_path(self.path)
        tmp.write_text(json.dumps(self.build(), indent=2))
        return [publish(tmp, self.path)]

    def abort(self) -> None:
        discard(atomic_path(self.path))


def _persons(tracks: dict[int, dict[str, Any]], classes: list[str]) -> list[dict[str, Any]]:
    """Each person (`person_id`) with its tracks, when seen, and its emotions over all of them: the dominant label
    and the label distribution count every frame of every track of the person, so a person seen in three shots is
    judged on all three. `seconds` is time on screen: the sum of its tracks' spans (a track seen once adds 0)."""
    out: dict[int, dict[str, Any]] = {}
    for tid, tr in sorted(tracks.items()):
        if "person" not in tr:
            continue
        pid, basis = tr["person"]
        p = out.get(pid)
        if p is None:
            p = out[pid] = {"person_id": pid, "person_basis": basis, "tracks": [], "start_s": tr["first"],
                            "end_s": tr["last"], "seconds": 0.0, "frames": 0,
                            "counts": np.zeros(len(classes), np.int64), "sum": np.zeros(len(classes))}
        p["tracks"].append(tid)
        p["start_s"], p["end_s"] = min(p["start_s"], tr["first"]), max(p["end_s"], tr["last"])
        p["seconds"] += tr["last"] - tr["first"]
        p["frames"] += tr["frames"]
        p["counts"] = p["counts"] + tr["counts"]
        p["sum"] = p["sum"] + tr["sum"]
    persons = []
    for _, p in sorted(out.items()):
        counts, sums = p.pop("counts"), p.pop("sum")
        n = max(1, p["frames"])
        persons.append({**p, "start_s": round(p["start_s"], 3), "end_s": round(p["end_s"], 3),
                        "seconds": round(p["seconds"], 3), "dominant_emotion": classes[int(np.argmax(counts))],
                        "label_distribution": {c: round(float(counts[k] / n), 4) for k, c in enumerate(classes)},
                        "mean_probabilities": {c: round(float(sums[k] / n), 4) for k, c in enumerate(classes)}})
    return persons


def _add_signals(tr: dict[str, Any], signals: tuple[np.ndarray, np.ndarray, str, str], top: int, k: int) -> None:
    """Running per-track signal counts: readings, quality flags (a reading's flags hold until the next reading),
    pose and blendshape sums, and the labels of frames whose face was clear (no flag)."""
    bs, pose, status, quality = signals
    st = tr.setdefault("signals", {"measured": 0, "flags": {}, "pose": np.zeros(3), "bs": np.zeros(len(bs)),
                                   "quality": None, "clear_counts": np.zeros(k, np.int64)})
    if status == "measured":
        st["measured"] += 1
        st["pose"] += pose
        st["bs"] += bs
        st["quality"] = quality
        for flag in filter(None, quality.split("|")):
            st["flags"][flag] = st["flags"].get(flag, 0) + 1
    if st["quality"] == "":
        st["clear_counts"][top] += 1


def _signals_brief(st: dict[str, Any], classes: list[str]) -> dict[str, Any]:
    """A track's signals in summary.json: how often read, the share of readings with each quality flag, the mean
    pose, the five strongest mean blendshapes, and the dominant emotion over frames whose face was clear."""
    from emotrace.results import POSE_FIELDS, blendshape_fields

    n = st["measured"]
    out: dict[str, Any] = {"readings": n, "flag_shares": {f: round(c / n, 4) for f, c in sorted(st["flags"].items())}}
    if n:
        out["mean_pose_deg"] = {k: round(float(v / n), 2) for k, v in zip(POSE_FIELDS, st["pose"], strict=True)}
        means = st["bs"] / n
        names = blendshape_fields()
        out["top_blendshapes"] = {names[i]: round(float(means[i]), 4) for i in np.argsort(-means)[:5]}
    clear = st["clear_counts"]
    out["clear_frames"] = int(clear.sum())
    out["dominant_emotion_clear_frames"] = classes[int(np.argmax(clear))] if clear.sum() else None
    return out
