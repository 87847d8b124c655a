"""Emotion label sets and the mappings between datasets' label sets.

emotrace's own set is the seven basic emotions the seeds use. Every dataset reader maps into it here, in one place,
so that a label never changes meaning between reading, training and reporting.
"""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""The project's emotion set, in the order every model output uses."""

FERPLUS_VOTE_COLUMNS: tuple[str, ...] = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF",
)
"""The ten annotator-vote columns of FER+ `label.csv`, in file order."""

FERPLUS_TO_EMOTION: dict[str, str | None] = {
    "neutral": "neutral",
    "happiness": "happy",
    "surprise": "surprise",
    "sadness": "sad",
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "contempt": None,  # not in the seven-class set; kept only where a reader asks for it
    "unknown": None,
    "NF": None,
}

FER2013_NAMES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER2013's integer labels 0..6 (Kaggle CSV) in order; identical to EMOTIONS by design."""

ALIASES: dict[str, str] = {
    "anger": "angry", "angry": "angry", "an": "angry", "ang": "angry",
    "disgust": "disgust", "di": "disgust", "dis": "disgust", "disgusted": "disgust",
    "fear": "fear", "fe": "fear", "fea": "fear", "fearful": "fear",
    "happy": "happy", "happiness": "happy", "ha": "happy", "hap": "happy", "joy": "happy",
    "sad": "sad", "sadness": "sad", "sa": "sad",
    "surprise": "surprise", "surprised": "surprise", "su": "surprise", "sur": "surprise",
    "neutral": "neutral", "ne": "neutral", "neu": "neutral",
}


def canonical(name: str) -> str:
    """Map a dataset's emotion name (any case, common abbreviations) to emotrace's name, or raise KeyError."""
    key = name.strip().lower()
    if key not in ALIASES:
        raise KeyError(f"unknown emotion label {name!r}")
    return ALIASES[key]


# Circumplex coordinates (valence, arousal) in [-1, 1] per basic emotion, read off Russell's (1980) circumplex as
# tabulated by Scherer (2005) "What are emotions? And how can they be measured?", Fig. 2. They turn categorical
# probabilities into valence/arousal *proxies*; anything derived from them must be labelled as a proxy.
CIRCUMPLEX_VA: dict[str, tuple[float, float]] = {
    "angry": (-0.43, 0.67),
    "disgust": (-0.60, 0.35),
    "fear": (-0.64, 0.60),
    "happy": (0.76, 0.48),
    "sad": (-0.63, -0.27),
    "surprise": (0.40, 0.67),
    "neutral": (0.0, 0.0),
}
