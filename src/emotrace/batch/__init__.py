"""Collections at scale: `emotrace batch` over folders, globs and manifests, on worker processes or a Ray cluster,
resumable, with per-item failures, a collection table and a report."""

from emotrace.batch.runner import EXIT_SOME_FAILED, BatchOptions, BatchResult, run_batch

__all__ = ["EXIT_SOME_FAILED", "BatchOptions", "BatchResult", "run_batch"]
