"""Collections at scale: `emotrace batch` over folders, globs and manifests, on worker processes or a Ray cluster,
resumable, with per-item failures, a collection table and a report.

The names below load on first use, so a worker process importing `emotrace.batch.engines` does not pay for the
driver's modules (pandas, the report)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["EXIT_SOME_FAILED", "BatchOptions", "BatchResult", "run_batch"]

if TYPE_CHECKING:
    from emotrace.batch.runner import EXIT_SOME_FAILED, BatchOptions, BatchResult, run_batch


def __getattr__(name: str) -> Any:
    if name in __all__:
        from emotrace.batch import runner

        return getattr(runner, name)
    raise AttributeError(name)
