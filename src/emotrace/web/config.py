"""The analyzer config as it travels inside the web app: `ServerSettings.analyzer` in, one fresh `AnalyzerConfig`
out for every analyzer (none is shared), and one JSON form, `AnalyzerConfig.to_dict`, on the job worker's command
line and in each job it is sent (the server's config with the job's own `signals`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from emotrace.analyzer_config import AnalyzerConfig


def analyzer_config(value: AnalyzerConfig | Mapping[str, Any] | None) -> AnalyzerConfig:
    """A new, checked AnalyzerConfig from a config or its fields (None: the defaults)."""
    fields = value.to_dict() if isinstance(value, AnalyzerConfig) else dict(value or {})
    return AnalyzerConfig.from_dict(fields)


def job_config(base: AnalyzerConfig | Mapping[str, Any] | None, signals: int | None) -> AnalyzerConfig:
    """A job's config: the server's (`base`) with only `signals` overridden, so a per-job choice can never change
    anything else; None keeps the server's setting (jobs stored before the choice existed)."""
    cfg = analyzer_config(base)
    return cfg if signals is None else AnalyzerConfig.from_dict({**cfg.to_dict(), "signals": signals})


def config_json(value: AnalyzerConfig | Mapping[str, Any] | None) -> str:
    """The config as the worker receives it: every field, so the worker needs no default of its own."""
    return json.dumps(analyzer_config(value).to_dict())


def config_from_json(text: str) -> AnalyzerConfig:
    """The inverse of `config_json`."""
    return analyzer_config(json.loads(text))
