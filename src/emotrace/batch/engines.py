"""Where items run: `local` (worker processes on this machine) or `ray` (one actor per worker on a Ray cluster).

Both give each worker one Analyzer, loaded once and reused for every item it is handed, and hand out items as
workers free up; the batch's `AnalyzerConfig` reaches each worker as it is (pickled, not rebuilt from a dict).
Both call the same `process_item`, which writes straight into the batch folder: on a cluster that folder must be
on storage every node reaches (NFS, a shared volume), and its path the same on every node.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
from collections import Counter, deque
from collections.abc import Iterator
from typing import Any

from emotrace.analyzer_config import AnalyzerConfig
from emotrace.batch.process import Task, one_line, process_item, publish_failure
from emotrace.errors import EmotraceError, first_line

log = logging.getLogger("emotrace")

CRASH_STRIKES = 3  # an item in flight when a worker died this many times is failed, not retried again
CRASH_REASON = "the worker process died while analysing it (decoder crash or out of memory)"


class WorkerStartError(EmotraceError):
    """A worker could not build its analyzer: the whole batch stops with this message."""


def make_analyzer(config: AnalyzerConfig, threads: int) -> Any:
    """The worker's analyzer: the batch's config, with `threads` CPU threads unless the config sets them."""
    from emotrace.native_log import MEDIAPIPE_QUIET_ENV, quiet_native_env

    quiet_native_env(only=MEDIAPIPE_QUIET_ENV)
    import cv2
    import torch

    from emotrace.pipeline import Analyzer

    cfg = dataclasses.replace(config, threads=config.threads or threads)  # the caller's config stays as it is
    cv2.setNumThreads(cfg.threads)
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # a bad item's reason is in its record
    torch.set_num_threads(cfg.threads)
    return Analyzer(cfg)


class ItemWorker:
    """One worker: builds its analyzer once, then processes one item per call (also the Ray actor class)."""

    def __init__(self, config: AnalyzerConfig, threads: int) -> None:
        self.error: str | None = None
        self.items = 0  # processed so far: the first one's time includes the warm-up (first inference, caches)
        try:
            self.analyzer = make_analyzer(config, threads)
        except Exception as exc:
            self.error = one_line(exc)

    def process(self, task: Task) -> dict[str, Any]:
        if self.error is not None:
            raise WorkerStartError(f"a worker could not start: {self.error}")
        self.items += 1
        return process_item(self.analyzer, task, first_on_worker=self.items == 1)


# -- local engine ---------------------------------------------------------------------------------------------
_WORKER: ItemWorker | None = None


def _die_with_parent() -> None:
    """Linux: a worker is killed when the batch process dies (kill -9 leaves no orphan writing results)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _init_local(config: AnalyzerConfig, threads: int) -> None:
    global _WORKER
    _die_with_parent()
    _WORKER = ItemWorker(config, threads)


def _run_local(task: Task) -> dict[str, Any]:
    assert _WORKER is not None
    return _WORKER.process(task)


class LocalEngine:
    """`workers` processes on this machine (1: in this process)."""

    name = "local"

    def __init__(self, config: AnalyzerConfig, workers: int | None = None) -> None:
        self.config = config
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.threads = max(1, (os.cpu_count() or 1) // self.workers)

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "workers": self.workers, "threads_per_worker": self.threads}

    def run(self, tasks: list[Task]) -> Iterator[dict[str, Any]]:
        if not tasks:
            return
        if self.workers == 1:
            worker = ItemWorker(self.config, self.threads)
            for t in tasks:
                yield worker.process(t)
            return
        yield from self._pool(tasks)

    def _new_pool(self) -> Any:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"),
                                   initializer=_init_local, initargs=(self.config, self.threads))

    def _pool(self, tasks: list[Task]) -> Iterator[dict[str, Any]]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pending = deque(tasks)
        strikes: Counter[str] = Counter()
        pool = self._new_pool()
        inflight: dict[Any, Task] = {}
        try:
            while pending or inflight:
                while pending and len(inflight) < 2 * self.workers:  # one running, one queued per worker
                    t = pending.popleft()
                    inflight[pool.submit(_run_local, t)] = t
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                broken = False
                for f in done:
                    t = inflight.pop(f)
                    try:
                        yield f.result()
                    except BrokenProcessPool:
                        broken = True
                        yield from self._strike(t, strikes, pending)
                if broken:  # every other item in flight went down with the pool: run them again
                    for t in inflight.values():
                        yield from self._strike(t, strikes, pending)
                    inflight.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._new_pool()
        finally:
            procs = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:  # stop workers still busy (Ctrl-C, an error in this process)
                if p.is_alive():
                    p.terminate()

    @staticmethod
    def _strike(t: Task, strikes: Counter[str], pending: deque[Task]) -> Iterator[dict[str, Any]]:
        strikes[t.id] += 1
        if strikes[t.id] >= CRASH_STRIKES:
            yield publish_failure(t, CRASH_REASON)
        else:
            log.warning("a worker died with %s in flight; it is run again", t.path)
            pending.appendleft(t)


# -- ray engine ---------------------------------------------------------------------------------------------
ADDRESS_TIMEOUT_S = 5.0  # a cluster that does not accept a TCP connection within this is not there
RAY_GCS_PORT, RAY_CLIENT_PORT = 6379, 10001  # Ray's defaults when an address names no port


def _host_port(text: str, default_port: int) -> tuple[str, int]:
    """'host', 'host:port' or '[v6]:port' as (host, port); a bad port is the user's one-line error."""
    host, port = text, str(default_port)
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else port
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise EmotraceError(f"--address {text}: not host:port")
    return host, int(port)


def check_ray_address(address: str | None, timeout: float | None = None) -> None:
    """Fail in seconds, with one line, when nothing answers at the cluster's address: Ray itself retries a dead GCS
    address for minutes (issue 24). Checks host:port (a GCS) and ray://host:port (Ray Client) with one TCP connect;
    `auto` and other schemes are Ray's to resolve (it fails fast there); None or 'local' start a Ray here."""
    env = os.environ.get("RAY_ADDRESS")
    if env and address in (None, "auto"):
        address = env  # what ray.init would join
    if address in (None, "", "auto", "local"):
        return
    assert address is not None
    if address.startswith("ray://"):
        host, port = _host_port(address[len("ray://"):].rstrip("/"), RAY_CLIENT_PORT)
    elif "://" in address:
        return
    else:
        host, port = _host_port(address, RAY_GCS_PORT)
    limit = ADDRESS_TIMEOUT_S if timeout is None else timeout
    try:
        with socket.create_connection((host, port), timeout=limit):
            return
    except TimeoutError:
        why = f"no answer within {limit:g} s"
    except ConnectionRefusedError:
        why = "connection refused"
    except socket.gaierror:
        why = f"unknown host {host}"
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
    raise EmotraceError(f"--address {address}: no Ray cluster answers at {host}:{port} ({why}); start one there "
                        "(ray start --head) or check the address")


class RayEngine:
    """One actor per worker on a Ray cluster (`address`: 'auto', 'ray://host:10001', or None for a Ray started
    here with this machine's CPUs)."""

    name = "ray"

    def __init__(self, config: AnalyzerConfig, workers: int | None = None, address: str | None = None,
                 cpus_per_worker: float = 1.0, gpus_per_worker: float = 0.0) -> None:
        if cpus_per_worker <= 0 or gpus_per_worker < 0:
            raise EmotraceError("--cpus-per-worker must be more than 0 and --gpus-per-worker 0 or more")
        self.config, self.address = config, address
        self.workers = workers
        self.cpus, self.gpus = cpus_per_worker, gpus_per_worker
        self.threads = max(1, int(cpus_per_worker))

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "address": self.address or "local", "workers": self.workers,
                "cpus_per_worker": self.cpus, "gpus_per_worker": self.gpus, "threads_per_worker": self.threads}

    @staticmethod
    def _import_ray() -> Any:
        try:
            import ray
        except ImportError:
            raise EmotraceError('the Ray engine needs Ray: pip install "emotrace[ray]"') from None
        return ray

    def run(self, tasks: list[Task]) -> Iterator[dict[str, Any]]:
        if not tasks:
            return
        ray = self._import_ray()
        started = False
        if not ray.is_initialized():
            opts: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                                    "log_to_driver": True}
            if self.address:
                ray.init(address=self.address, **opts)
            else:
                want = int(max(1, self.workers or os.cpu_count() or 1) * self.cpus + 0.999)
                ray.init(num_cpus=max(want, os.cpu_count() or 1), **opts)
            started = True
        try:
            yield from self._schedule(ray, tasks)
        finally:
            if started:
                ray.shutdown()

    def _schedule(self, ray: Any, tasks: list[Task]) -> Iterator[dict[str, Any]]:
        from ray.exceptions import RayActorError, RayTaskError

        n = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1) // self.cpus))
        self.workers = n
        actor_cls = ray.remote(num_cpus=self.cpus, num_gpus=self.gpus, max_restarts=0)(ItemWorker)
        actors = [actor_cls.remote(self.config, self.threads) for _ in range(min(n, len(tasks)))]
        idle = list(actors)
        pending = deque(tasks)
        strikes: Counter[str] = Counter()
        inflight: dict[Any, tuple[Any, Task]] = {}
        try:
            while pending or inflight:
                while pending and idle:
                    a, t = idle.pop(), pending.popleft()
                    inflight[a.process.remote(t)] = (a, t)
                ready, _ = ray.wait(list(inflight), num_returns=1)
                for ref in ready:
                    a, t = inflight.pop(ref)
                    try:
                        rec = ray.get(ref)
                    except RayActorError:
                        actors.remove(a)
                        replacement = actor_cls.remote(self.config, self.threads)
                        actors.append(replacement)
                        idle.append(replacement)
                        strikes[t.id] += 1
                        if strikes[t.id] >= CRASH_STRIKES:
                            yield publish_failure(t, CRASH_REASON)
                        else:
                            pending.appendleft(t)
                        continue
                    except RayTaskError as exc:
                        cause = exc.as_instanceof_cause()
                        if isinstance(cause, EmotraceError):
                            raise EmotraceError(first_line(cause)) from None
                        raise
                    idle.append(a)
                    yield rec
        finally:
            for a in actors:
                try:
                    ray.kill(a)
                except Exception:
                    pass
