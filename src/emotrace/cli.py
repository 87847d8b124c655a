"""The `emotrace` command. It only parses arguments and calls the library; every user error is one line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from emotrace.errors import EmotraceError, Interrupted, one_line, print_error, request_stop

log = logging.getLogger("emotrace")


def _catch_stop_signals() -> None:
    """SIGINT, SIGTERM and SIGHUP end a run the same way: outputs aborted, one line, exit 128 + signal number. A
    SIGINT the parent chose to ignore (nohup, a background job) stays ignored."""
    import signal

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if not hasattr(signal, name):
            continue
        sig = getattr(signal, name)
        if name == "SIGINT" and signal.getsignal(sig) is not signal.default_int_handler:
            continue
        signal.signal(sig, request_stop)


# Commands that decode media, where FFmpeg/OpenCV print their own lines: those go to the debug log unless --debug.
NATIVE_CAPTURE = {"analyze", "sample", "live", "evaluate"}
# Options that also work after the subcommand (`emotrace analyze -q ...`).
COMMON_FLAGS = (("-q", "--quiet", "no progress bar, warnings only"), ("-v", "--verbose", "debug logging"),
                (None, "--debug", "show tracebacks and the native libraries' own log lines"))


def _add_common_flags(p: argparse.ArgumentParser, top: bool) -> None:
    for short, long, text in COMMON_FLAGS:
        names = [n for n in (short, long) if n]
        if top:
            p.add_argument(*names, action="store_true", help=text)
        else:  # SUPPRESS: not given here leaves the value from before the subcommand
            p.add_argument(*names, action="store_true", default=argparse.SUPPRESS, help=text)
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _add_common_flags(child, top=False)


def _analyzer_args(p: argparse.ArgumentParser) -> None:
    from emotrace.analyzer_config import AnalyzerConfig
    from emotrace.cli_options import add_options

    g = p.add_argument_group("pipeline")
    g.add_argument("--config", help="YAML file of pipeline options (AnalyzerConfig fields)")
    add_options(g, AnalyzerConfig, layered=True)  # --config's values stand where an option is not typed


def _analyzer_config(args: argparse.Namespace) -> Any:
    """AnalyzerConfig from --config YAML and the pipeline options, validated."""
    from emotrace.analyzer_config import AnalyzerConfig
    from emotrace.cli_options import option_flags, option_message, option_values
    from emotrace.config import load_config

    given = option_values(AnalyzerConfig, args)
    try:
        return load_config(AnalyzerConfig, args.config, **given)
    except EmotraceError as exc:
        raise option_message(exc, given, option_flags(AnalyzerConfig)) from None


def _make_analyzer(args: argparse.Namespace) -> Any:
    from emotrace.pipeline import Analyzer

    return Analyzer(_analyzer_config(args))


def cmd_analyze(args: argparse.Namespace) -> int:
    from emotrace.api import run
    from emotrace.outputs import build_sinks, parse_outputs

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise EmotraceError(f"output folder {out} exists and is not a folder")
    if getattr(args, "sequence", False) and not Path(args.source).is_dir():
        raise EmotraceError("--sequence is for a folder of images (one video's frames)")
    given = {"outputs": args.outputs, "max_frames": args.max_frames}
    try:
        sinks = build_sinks(out, parse_outputs(args.outputs))
        if args.max_frames is not None and args.max_frames < 1:
            raise EmotraceError(f"max_frames must be a whole number 1 or more (got {args.max_frames})")
    except EmotraceError as exc:
        from emotrace.cli_options import option_message

        raise option_message(exc, given) from None
    from emotrace.sinks.lock import FolderLock

    FolderLock(out).acquire().release()  # a folder in use is refused now, not after the models load; run() holds it
    analyzer = _make_analyzer(args)
    written = run(args.source, analyzer, sinks, progress=not args.quiet, max_frames=args.max_frames,
                  sequence=getattr(args, "sequence", False))
    if not args.quiet:
        _report(out, written)
    return 0


def _report(out: Path, written: list[Path]) -> None:
    import json

    from emotrace.outputs import output_file, summary_persons, summary_tracks

    summary = out / output_file("summary")
    if summary.is_file():
        s = json.loads(summary.read_text())
        persons = summary_persons(s)
        print(f"{s['frames']} frames, faces in {s['frames_with_faces']}, {len(s['tracks'])} track(s)"
              + (f" of {len(persons)} person(s)" if persons else "")
              + f"; temporal stage: {s['analyzer']['temporal_stage']}")
        for p in persons[:10]:  # a person's emotions count all its tracks' frames
            print(f"  person {p['person_id']} (tracks {', '.join(map(str, p['tracks']))}): {p['seconds']:.2f} s on "
                  f"screen, {p['frames']} frames, mostly {p['dominant_emotion']}")
        for t in [] if persons else summary_tracks(s)[:10]:
            print(f"  track {t['track_id']}: {t['start_s']:.2f}-{t['end_s']:.2f} s, {t['frames']} frames, "
                  f"mostly {t['dominant_emotion']}")
    print(f"wrote {len(written)} file(s) to {out}/:")
    for p in written:
        print(f"  {p}")


def cmd_batch(args: argparse.Namespace) -> int:
    """`emotrace batch`: a collection; exit 0 when every item is done, 3 when some failed."""
    from emotrace.batch import BatchOptions, run_batch
    from emotrace.cli_options import option_values
    from emotrace.outputs import parse_outputs

    given = option_values(BatchOptions, args)
    opts = BatchOptions(**{**given, "outputs": parse_outputs(given["outputs"])}, progress=not args.quiet)
    if args.address and args.engine != "ray":
        raise EmotraceError("--address is for --engine ray")
    result = run_batch(opts, _analyzer_config(args))
    for rec in result.failed_items[:20]:
        print(f"failed: {rec['path']}: {rec.get('reason')}", file=sys.stderr)
    if len(result.failed_items) > 20:
        print(f"... and {len(result.failed_items) - 20} more failed items (see collection.json)", file=sys.stderr)
    for rec in result.incomplete_items[:20]:  # done, with the readable part: said, not failed (as `analyze`)
        print(f"incomplete: {rec['path']}: {rec.get('incomplete_reason')}", file=sys.stderr)
    print(result.line())
    return result.exit_code


def cmd_sample(args: argparse.Namespace) -> int:
    from emotrace.sample import render_sample_clip

    out = Path(args.out)
    clip = render_sample_clip(out / "sample_input.mp4")
    if not args.quiet:
        print(f"rendered the built-in sample clip: {clip}")
    args.source = str(clip)
    return cmd_analyze(args)


def cmd_live(args: argparse.Namespace) -> int:
    from emotrace.live import require_display, run_live

    if args.output is None:
        require_display()
    analyzer = _make_analyzer(args)
    stats = run_live(args.source, analyzer, output=args.output, max_frames=args.max_frames, quiet=args.quiet)
    print(f"{stats['frames']} frames; frame-to-result latency mean {stats['latency_ms_mean']:.1f} ms, "
          f"p95 {stats['latency_ms_p95']:.1f} ms" + (f"; wrote {args.output}" if args.output else ""))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """`emotrace serve`: the web app and HTTP API (emotrace.web); every limit is an option."""
    from emotrace.cli_options import option_flags, option_message, option_values
    from emotrace.web.app import serve
    from emotrace.web.settings import ServerSettings

    cfg = _analyzer_config(args)
    given = option_values(ServerSettings, args)
    given["token"] = given["token"] or os.environ.get("EMOTRACE_TOKEN") or None
    given["cors_origins"] = list(given["cors_origins"] or [])
    try:
        settings = ServerSettings(**given, analyzer=cfg.to_dict())
    except EmotraceError as exc:  # the settings' own check, in the words of the options the user typed
        raise option_message(exc, given, option_flags(ServerSettings)) from None
    data_dir = settings.data_dir
    if not args.quiet:
        url = f"http://{args.host}:{args.port}"
        print(f"emotrace serve: {url}/ (upload), {url}/live (webcam), API {url}/api/v1 "
              f"(schema {url}/api/v1/openapi.json); data in {data_dir}/; Ctrl-C stops", flush=True)
    serve(settings, log_level="warning" if args.quiet else "info")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from emotrace.models.factory import list_models
    from emotrace.models.manifest import default_model, manifest
    from emotrace.models.runtime import default_frame_model

    frame_default = default_frame_model()
    from emotrace.models.temporal.offline import offline_model

    temporal_default = default_model("temporal", frame_default) or "ema"
    offline_default = offline_model(frame_default) or temporal_default
    print("architectures:", ", ".join(list_models()))
    print(f"defaults: frame model {frame_default} (--frame-model default), temporal stage {temporal_default} "
          f"live and {offline_default} on files (--temporal auto)")
    for name, rec in manifest().items():
        shown = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in rec.metrics.items()
                          if not isinstance(v, dict))
        mark = " [default]" if name in (frame_default, temporal_default, offline_default) else ""
        print(f"{name}{mark}: {rec.role} model, arch {rec.arch}, classes {len(rec.classes)}"
              + (f"; {shown}" if shown else ""))
    return 0


def _run_args(p: argparse.ArgumentParser, outputs: bool = True) -> None:
    """The options of one run (analyze, sample, live): its outputs, a frame limit, and the pipeline's."""
    from emotrace.outputs import ALL_OUTPUTS

    if outputs:
        p.add_argument("--outputs", default="all", help=f"comma list of {','.join(ALL_OUTPUTS)}, or all (default)")
    p.add_argument("--max-frames", type=int, help="stop after N frames (live sources)")
    _analyzer_args(p)


def build_parser() -> argparse.ArgumentParser:
    from emotrace.batch.options import BatchOptions
    from emotrace.cli_options import add_options
    from emotrace.version import __version__
    from emotrace.web.settings import ServerSettings

    p = argparse.ArgumentParser(prog="emotrace", description="Per-person, per-frame facial emotion.")
    p.add_argument("--version", action="version", version=f"emotrace {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="analyse an image, folder, video file, stream URL or webcam index")
    a.add_argument("source", help="file, folder, URL (rtsp://, http://...) or webcam index")
    a.add_argument("-o", "--out", required=True, help="output folder")
    a.add_argument("--sequence", action="store_true",
                   help="a folder of images is one video's frames (tracked, temporal model across them); by default "
                        "each photo is analysed on its own")
    _run_args(a)
    a.set_defaults(func=cmd_analyze)

    b = sub.add_parser(
        "batch", help="analyse a collection: folders, globs or manifests; resumable; local workers or Ray",
        epilog="Exit status: 0 every item done; 3 some items failed (listed in collection.json and report.html); "
               "2 a usage error; 130 interrupted (rerun to continue: finished items are kept).")
    add_options(b, BatchOptions)
    _analyzer_args(b)
    b.set_defaults(func=cmd_batch)

    s = sub.add_parser("sample", help="render the built-in sample clip and analyse it")
    s.add_argument("-o", "--out", default="emotrace-sample", help="output folder (default: emotrace-sample)")
    _run_args(s)
    s.set_defaults(func=cmd_sample)

    lv = sub.add_parser("live", help="live window over a webcam or any source ('q' quits)")
    lv.add_argument("source", nargs="?", default="0", help="webcam index (default 0), file or URL")
    lv.add_argument("--output", help="write the annotated stream to this .mp4 instead of a window")
    _run_args(lv, outputs=False)
    lv.set_defaults(func=cmd_live)

    sv = sub.add_parser("serve", help="web app and HTTP API: upload page, live webcam page, /api/v1")
    add_options(sv, ServerSettings)
    _analyzer_args(sv)
    sv.set_defaults(func=cmd_serve)

    m = sub.add_parser("models", help="list architectures and shipped weights")
    m.set_defaults(func=cmd_models)

    from emotrace.cli_train import add_model_parsers

    add_model_parsers(sub)

    from emotrace.cli_data import add_data_parser

    add_data_parser(sub)
    _add_common_flags(p, top=True)
    return p


def main(argv: list[str] | None = None) -> int:
    from contextlib import nullcontext

    from emotrace.native_log import capture_native_stderr, quiet_native_env
    from emotrace.provenance import set_command

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    set_command(["emotrace", *argv])
    if not args.debug:
        quiet_native_env()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO,
                        format="emotrace: %(message)s")
    if args.command != "serve":  # uvicorn handles the server's signals itself
        _catch_stop_signals()
    capture = capture_native_stderr() if args.command in NATIVE_CAPTURE and not args.debug else nullcontext()
    try:
        with capture:
            return int(args.func(args) or 0)
    except (EmotraceError, OSError) as exc:  # OSError: disk full, permission denied, output path is a file...
        print_error(one_line(exc))
        return 2
    except KeyboardInterrupt as exc:
        import signal

        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(f"emotrace: stopped by {signal.Signals(signum).name}; no partial outputs were kept", file=sys.stderr)
        return 128 + int(signum)
    except Exception as exc:  # last line of defence: one line, not a traceback
        if args.debug:
            raise
        print_error(f"{one_line(exc)} (rerun with --debug for details)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
