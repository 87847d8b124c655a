import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Compiled modules for every Python process the suite starts (CLI runs, servers, batch and job workers): where the
# environment says not to write bytecode (PYTHONDONTWRITEBYTECODE, set on the machine the suite is timed on), each
# of those processes would compile emotrace's modules again (about 0.3 s each); kept in one folder outside the tree
# instead, so nothing is written into the checkout.
if not os.environ.get("PYTHONPYCACHEPREFIX"):
    _prefix = str(Path(tempfile.gettempdir()) / f"emotrace-tests-pycache-{os.getuid()}")
    os.environ["PYTHONPYCACHEPREFIX"] = _prefix
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.pycache_prefix, sys.dont_write_bytecode = _prefix, False


def pytest_configure(config):
    """The suite runs as several workers on two cores (pyproject's addopts): every process it starts, the workers
    included, gets one OpenMP thread instead of one per core, so the workers' pools do not wait on each other (the
    whole suite with two workers: 593 s with per-core pools, 430-500 s with one each; docs/benchmarks.md). Set
    here, before the workers start, so it holds from their first line; `-n 0` runs keep the library's default."""
    workers = getattr(config.option, "numprocesses", None) or 0
    if (isinstance(workers, int) and workers > 1) or int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        os.environ.setdefault("OMP_NUM_THREADS", "1")


