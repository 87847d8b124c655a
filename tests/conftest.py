import os

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The suite runs as two workers on two cores (pyproject's addopts): each worker's OpenMP pool (torch's, and that of
# every process a test starts) gets one thread instead of one per core, so two pools of two threads do not wait on
# each other. Measured on the 2-core machine: the whole suite 593 s with per-core pools, 430 s with one thread each
# (docs/benchmarks.md). Set before anything imports torch; `-n 0` runs keep the library's default.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
