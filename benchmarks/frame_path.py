"""A frame's way through the package, traced: which emotrace modules one steady-state frame enters, in call order,
how often each, and whether any call climbs back up the layers (issue 22: "A frame's way, source -> analyzer ->
sinks, enters each module at most twice, with no climb back up from the analyzer to the run loop's caller").

    PYTHONPATH=src python benchmarks/frame_path.py [VIDEO] [--frame 9] [--max-frames 40] [--outputs all]

It runs what `emotrace analyze VIDEO --max-frames N` runs (`emotrace.api.run` with every output into a temporary
folder), single-threaded (`threaded=False`) so the trace is deterministic, under `sys.setprofile`. Counting is
structural, so the result does not depend on the machine's speed. Definitions:

- **trace**: the `call` and `return` events of Python functions whose module is emotrace's (a generator's resume is
  a call, its yield a return), in the run's thread, from `run`'s start to its end. Model loading happens before.
- **frame K's objects**: its `Frame`, the frame's image, the `Detections` that reach its result and that object's
  per-face arrays except `track_id` (the tracker hands that array on to the next frames, which coast on it), and
  its `FrameResult`.
- **a call carries frame K** when one of its arguments (for a generator: its arguments at its first resume only,
  since later resumes see the locals of earlier work) is one of K's objects, directly or inside lists and tuples up
  to three deep (a model group is a list of (frame, faces, detected): a call that takes a batch works on each of
  its frames), or when the value it returns or yields is one of K's objects itself. A list given back is a batch
  handed on (the results a model group completes), made by calls that carry each item themselves.
- **a call is on frame K's way** when it carries K, or when it carries no frame and the call it was made from is on
  K's way (the nearest enclosing call that carries a frame decides; a group's model batch is on the way of every
  frame of the group). Not seen: work a call does on K's data that it reaches through other objects (the look-ahead
  stage writes K's temporal columns in place while a later frame steps its track; that call carries the later
  frame and counts on its way).
- **an entry into module M**: a call to a function of M made from a function of another module (or from outside
  the package). It opens a stretch of control in M that lasts until that call returns; calls from M to M, and
  returns into M, stay inside the stretch.
- **a visit**: a stretch in M in which at least one call on frame K's way runs. "Entered" counts visits per module;
  the sequence lists them in the order of their first call on the way (consecutive calls within one module are one
  visit; two stretches are two visits even when nothing else came between them).
- **a climb back**: a call on the way whose caller (the nearest enclosing traced call) is in a lower layer than the
  callee. Layers, low to high: the base (types, results, labels, errors, concurrency, analyzer_config, ...: data and
  helpers any layer may call) < sources < faces < models < pipeline < sinks < the run loop (api, outputs, cli, batch,
  web, live), the order `tests/test_import_cycles.py` and docs/design.md state.
- **not counted as visits**: `emotrace.types` and `emotrace.results`, the frame and its result themselves
  (dataclasses with their views: `records`, `fields`, `frame_fields`): they are what travels, not a station; their
  calls still count for climbs (a call from them into any layer is one).
- **not traced**: the cyclic garbage collector's work (it is switched off for the traced run, after a collection:
  a finalizer or a suspended generator of an earlier run closed mid-trace would run on whichever frame's way was
  current, at a moment that depends on other threads' allocations), and calls the import system makes while a
  module is first imported mid-run (a meta-path finder such as `faces.mediapipe_import`'s, consulted for every
  import of every module), and the calls under them.

A frame is steady when it is past the first model group (`batch_frames`) and reaches the sinks before the source's
last frame is read (not in the end-of-stream flush). PASS: every steady frame enters each module at most twice and
no call on its way climbs back.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("EMOTRACE_SHARED", REPO.parent / "shared")) / "media"
MAX_VISITS = 2
DATA_MODULES = ("emotrace.types", "emotrace.results")  # what travels, not a station (see the docstring)
LAYERS = (("emotrace.sources", 1), ("emotrace.faces", 2), ("emotrace.models", 3), ("emotrace.pipeline", 4),
          ("emotrace.sinks", 5), ("emotrace.api", 6), ("emotrace.outputs", 6), ("emotrace.cli", 6),
          ("emotrace.batch", 6), ("emotrace.web", 6), ("emotrace.live", 6))
LAYER_NAMES = {0: "base", 1: "sources", 2: "faces", 3: "models", 4: "pipeline", 5: "sinks", 6: "run loop"}
CO_GENERATOR = 0x20


def layer(module: str) -> int:
    """The module's layer (0: the base every layer may call)."""
    for prefix, rank in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return 0


@dataclass
class Call:
    """One traced call: where, who made it, and the objects it took and gave (kept alive, so ids stay unique)."""

    module: str
    name: str
    parent: int | None
    frame_id: int
    ids: list[int] = field(default_factory=list)


class Tracer:
    """`sys.setprofile` hook keeping the tree of emotrace calls and the frame-like objects each took and gave."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._stack: list[int] = []
        self._keep: list[Any] = []  # every object whose id was recorded: no id is reused while the trace lives
        self._started: dict[int, FrameType] = {}  # generator frames already resumed once (kept: ids stay unique)
        self._imports: set[int] = set()  # frames of calls the import system made, and of the calls they made
        from emotrace.results import FrameResult
        from emotrace.types import Detections, Frame

        self._kinds = (np.ndarray, Frame, Detections, FrameResult)

    def _collect(self, value: Any, out: list[int], depth: int = 3) -> None:
        if isinstance(value, self._kinds):
            self._keep.append(value)
            out.append(id(value))
        elif depth and isinstance(value, (list, tuple)):
            for v in value[:64]:
                self._collect(v, out, depth - 1)

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and self._by_import_system(frame):
            self._imports.add(id(frame))
            return
        if event == "return" and id(frame) in self._imports:
            self._imports.discard(id(frame))
            return
        if event == "call":
            module = frame.f_globals.get("__name__", "")
            if not module.startswith("emotrace"):
                return
            code = frame.f_code
            call = Call(module, getattr(code, "co_qualname", code.co_name),
                        self._stack[-1] if self._stack else None, id(frame))
            first = True
            if code.co_flags & CO_GENERATOR:
                first = id(frame) not in self._started
                self._started[id(frame)] = frame
            if first:
                n = code.co_argcount + code.co_kwonlyargcount
                local = frame.f_locals
                for name in code.co_varnames[:n]:
                    self._collect(local.get(name), call.ids)
            self._stack.append(len(self.calls))
            self.calls.append(call)
        elif event == "return" and self._stack and self.calls[self._stack[-1]].frame_id == id(frame):
            self._collect(arg, self.calls[self._stack.pop()].ids, depth=0)  # what it gives: the object itself


    def _by_import_system(self, frame: FrameType) -> bool:
        """A call the import system made (a meta-path finder consulted while some module is first imported, e.g.
        `faces.mediapipe_import`'s), or one made under it: not the frame's way, whatever frame is being handled."""
        back = frame.f_back
        return back is not None and (id(back) in self._imports
                                     or back.f_code.co_filename.startswith("<frozen importlib"))


def frame_objects(res: Any) -> list[Any]:
    """The objects that are frame `res.frame.index` (see the docstring): not `track_id`, handed on to later frames."""
    f = res.faces
    arrays = (f.boxes, f.scores, f.keypoints, f.frame_probs, f.embedding, f.temporal_probs, f.valence_arousal, f.crop)
    return [res, res.frame, res.frame.image, f, *(a for a in arrays if a is not None)]


@dataclass
class FramePath:
    """One frame's way: its visits in order, visits per module, and the climbs back found on it."""

    index: int
    detected: bool
    visits: list[str]
    counts: Counter[str]
    climbs: list[str]
    where: list[str] = field(default_factory=list)  # each visit's first call and its caller, for a failure message

    @property
    def ok(self) -> bool:
        return not self.climbs and max(self.counts.values(), default=0) <= MAX_VISITS


@dataclass
class Trace:
    """A traced run: the calls, which frame each call carries, and where in the trace each result reached the run
    loop's caller."""

    calls: list[Call]
    owners: list[frozenset[int]]
    entry: list[int]
    results: dict[int, Any]
    delivered_at: dict[int, int]
    last_read_at: int
    batch_frames: int

    def steady(self) -> list[int]:
        """Frames past the first model group whose results left before the source's last frame was read."""
        return [k for k in sorted(self.results) if k >= self.batch_frames and self.delivered_at[k] < self.last_read_at]

    def path(self, k: int) -> FramePath:
        """Frame k's visits and climbs (the docstring's definitions)."""
        visits: list[str] = []
        where: list[str] = []
        entries: set[int] = set()
        climbs: list[str] = []
        for i, c in enumerate(self.calls):
            if k not in self.owners[i]:
                continue
            if c.parent is not None:
                caller = self.calls[c.parent]
                if layer(caller.module) < layer(c.module):
                    climbs.append(f"{caller.module}.{caller.name} ({LAYER_NAMES[layer(caller.module)]}) -> "
                                  f"{c.module}.{c.name} ({LAYER_NAMES[layer(c.module)]})")
            entry = self.entry[i]
            if entry in entries:
                continue
            entries.add(entry)
            if c.module not in DATA_MODULES:
                visits.append(c.module)
                caller = self.calls[c.parent] if c.parent is not None else None
                where.append(f"{c.module}.{c.name} <- " + (f"{caller.module}.{caller.name}" if caller else "-"))
        return FramePath(k, bool(self.results[k].detected), visits, Counter(visits), climbs, where)


def trace_run(source: str | Path, analyzer: Any, outputs: str = "all", max_frames: int = 40) -> Trace:
    """Run `source` through `analyzer` into `outputs` (a temporary folder) single-threaded, traced."""
    from emotrace.api import build_sinks, run
    from emotrace.outputs import parse_outputs

    import_heavy(parse_outputs(outputs))
    results: dict[int, Any] = {}
    delivered_at: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="frame-path-") as out:
        tracer = Tracer()

        def keep(res: Any) -> None:
            results[res.frame.index] = res
            delivered_at[res.frame.index] = len(tracer.calls)

        sinks = build_sinks(out, parse_outputs(outputs))
        gc.collect()
        was_on = gc.isenabled()
        gc.disable()  # (see the docstring: the collector's finalizers are not the frame's way)
        sys.setprofile(tracer)
        try:
            run(source, analyzer, sinks, on_result=keep, max_frames=max_frames, threaded=False)
        finally:
            sys.setprofile(None)
            if was_on:
                gc.enable()
    owner_of: dict[int, int] = {}
    for k, res in results.items():
        for obj in frame_objects(res):
            owner_of[id(obj)] = k
    owners: list[frozenset[int]] = []
    for c in tracer.calls:
        carried = frozenset(owner_of[i] for i in c.ids if i in owner_of)
        owners.append(carried or (owners[c.parent] if c.parent is not None else frozenset()))
    entry: list[int] = []  # the call that brought control into each call's module (itself, or its caller's entry)
    for i, c in enumerate(tracer.calls):
        p = c.parent
        entry.append(entry[p] if p is not None and tracer.calls[p].module == c.module else i)
    last = max(results)
    last_read_at = min(i for i, c in enumerate(tracer.calls) if layer(c.module) == 1 and last in owners[i])
    return Trace(tracer.calls, owners, entry, results, delivered_at, last_read_at, analyzer.config.batch_frames)


def import_heavy(outputs: tuple[str, ...]) -> None:
    """Libraries the sinks import when they open or close, imported before tracing (the trace is emotrace's, and
    tracing their import machinery only costs time)."""
    if "parquet" in outputs:
        import pyarrow.parquet  # noqa: F401
    if "video" in outputs:
        import imageio_ffmpeg  # noqa: F401
    if {"timeline", "report"} & set(outputs):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401


def report(tr: Trace, k: int) -> bool:
    """Print frame k's way in full, a line per other steady frame and the verdict; True when it passes."""
    fp = tr.path(k)
    print(f"frame {k} ({'detected' if fp.detected else 'coasted by the tracker'}): {len(fp.visits)} visits")
    print("  " + " -> ".join(m.removeprefix("emotrace.") for m in fp.visits))
    print("entered (visits per module):")
    for m, n in sorted(fp.counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n}  {m}{'   <-- more than twice' if n > MAX_VISITS else ''}")
    print(f"climbs back: {len(fp.climbs)}")
    for c in dict.fromkeys(fp.climbs):
        print(f"  {c}")
    steady = tr.steady()
    print(f"steady frames {steady[0]}..{steady[-1]}:" if steady else "no steady frame (raise --max-frames)")
    ok = bool(steady) and k in steady
    for j in steady:
        p = tr.path(j)
        over = ", ".join(f"{m.removeprefix('emotrace.')} {n}x" for m, n in p.counts.items() if n > MAX_VISITS)
        print(f"  frame {j:3d} {'detected' if p.detected else 'coasted '}: {len(p.visits):2d} visits, most entered "
              f"{max(p.counts.values())}x, climbs back {len(p.climbs)}" + (f"; over twice: {over}" if over else ""))
        ok = ok and p.ok
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict}: each module entered at most {MAX_VISITS} times and no climb back, on every steady frame"
          + ("" if k in steady else f" (frame {k} is not steady)"))
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("video", nargs="?", default=str(MEDIA / "WolfgangLanger_Pexels.mp4"))
    ap.add_argument("--frame", type=int, default=9, help="the frame shown in full (9: second model group, detected)")
    ap.add_argument("--max-frames", type=int, default=40)
    ap.add_argument("--outputs", default="all", help="as `emotrace analyze --outputs`")
    args = ap.parse_args()

    from emotrace.pipeline import Analyzer

    analyzer = Analyzer()
    t0 = time.perf_counter()
    tr = trace_run(args.video, analyzer, args.outputs, args.max_frames)
    print(f"{Path(args.video).name}: {len(tr.results)} frames, {len(tr.calls)} emotrace calls traced in "
          f"{time.perf_counter() - t0:.1f} s (threaded=False, outputs {args.outputs})")
    if args.frame not in tr.results:
        print(f"frame {args.frame} was not analysed (raise --max-frames)")
        return 2
    return 0 if report(tr, args.frame) else 1


if __name__ == "__main__":
    sys.exit(main())
