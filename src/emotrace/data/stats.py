"""Counts that say what a dataset holds: per class, split and subject, sequence lengths, and what was skipped."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from emotrace.data.schema import Dataset


def dataset_stats(dataset: Dataset) -> dict[str, Any]:
    """A JSON-ready summary; classes are reported by name, unlabelled samples under '(none)'."""
    def name(label: int) -> str:
        return dataset.classes[label] if label >= 0 else "(none)"

    by_split: dict[str, Counter[str]] = {}
    for s in dataset.samples:
        by_split.setdefault(s.split or "(all)", Counter())[name(s.label)] += 1
    subjects = Counter(s.subject for s in dataset.samples if s.subject is not None)
    kinds = Counter(s.media.kind for s in dataset.samples)
    frame_label_counts: Counter[str] = Counter()
    for s in dataset.samples:
        if s.frame_labels is not None:
            frame_label_counts.update(name(int(x)) for x in s.frame_labels)
    lengths = [len(s.media.paths) for s in dataset.samples if hasattr(s.media, "paths")]
    out: dict[str, Any] = {
        "dataset": dataset.name,
        "root": str(dataset.root),
        "classes": list(dataset.classes),
        "samples": len(dataset),
        "kinds": dict(kinds),
        "per_split": {k: {c: v[c] for c in list(dataset.classes) + ["(none)"] if v[c]} for k, v in by_split.items()},
        "per_class": {c: n for c, n in Counter(name(s.label) for s in dataset.samples).most_common()},
        "subjects": len(subjects),
        "samples_per_subject": ({"min": min(subjects.values()), "median": float(np.median(list(subjects.values()))),
                                 "max": max(subjects.values())} if subjects else None),
        "skipped": len(dataset.skipped),
        "skipped_by_reason": dataset.skipped_summary(),
        "va_samples": sum(s.valence_arousal is not None for s in dataset.samples),
        "va_proxy": any(s.va_proxy for s in dataset.samples),
        "notes": dataset.notes,
    }
    if frame_label_counts:
        out["per_frame_labels"] = dict(frame_label_counts.most_common())
    if lengths:
        out["frames_per_sequence"] = {"min": min(lengths), "median": float(np.median(lengths)), "max": max(lengths)}
    return out


def format_stats(st: dict[str, Any], subject_rows: int = 0, dataset: Dataset | None = None) -> str:
    """The summary as an aligned plain-text table for the terminal."""
    classes = st["classes"] + (["(none)"] if any("(none)" in v for v in st["per_split"].values()) else [])
    lines = [f"{st['dataset']} at {st['root']}: {st['samples']} samples "
             f"({', '.join(f'{v} {k}' for k, v in st['kinds'].items())}), {st['subjects']} subjects, "
             f"{st['skipped']} skipped"]
    width = max(8, *(len(c) for c in classes))
    lines.append("split".ljust(10) + "".join(c.rjust(width + 1) for c in classes) + "total".rjust(width + 1))
    for split, counts in st["per_split"].items():
        row = split.ljust(10) + "".join(str(counts.get(c, 0)).rjust(width + 1) for c in classes)
        lines.append(row + str(sum(counts.values())).rjust(width + 1))
    if st.get("frames_per_sequence"):
        f = st["frames_per_sequence"]
        lines.append(f"frames per sequence: min {f['min']}, median {f['median']:g}, max {f['max']}")
    if st.get("samples_per_subject"):
        f = st["samples_per_subject"]
        lines.append(f"samples per subject: min {f['min']}, median {f['median']:g}, max {f['max']}")
    if st.get("per_frame_labels"):
        lines.append("per-frame labels: " + ", ".join(f"{k} {v}" for k, v in st["per_frame_labels"].items()))
    if st["va_samples"]:
        lines.append(f"valence/arousal on {st['va_samples']} samples" + (" (PROXIES from categorical votes)"
                                                                         if st["va_proxy"] else ""))
    for reason, n in st["skipped_by_reason"].items():
        lines.append(f"skipped {n}: {reason}")
    for note in st["notes"]:
        lines.append(f"note: {note}")
    if subject_rows and dataset is not None:
        per: dict[str, Counter[str]] = {}
        for s in dataset.samples:
            if s.subject is not None:
                per.setdefault(s.subject, Counter())[dataset.classes[s.label] if s.label >= 0 else "(none)"] += 1
        lines.append("subject".ljust(10) + "".join(c.rjust(width + 1) for c in classes))
        for subj in sorted(per)[:subject_rows]:
            lines.append(subj.ljust(10) + "".join(str(per[subj].get(c, 0)).rjust(width + 1) for c in classes))
    return "\n".join(lines)
