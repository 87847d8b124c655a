"""`emotrace data prepare | stats | show`: look at a dataset before training on it, and build its crop cache."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from emotrace.analyzer_config import DETECTORS
from emotrace.errors import EmotraceError


def _reader_args(p: argparse.ArgumentParser, data_help: str = "") -> None:
    p.add_argument("data", nargs="?" if data_help else None,
                   help="dataset folder or file (layout detected: FER+, CK+, CK+48, JAFFE, RAVDESS, CREMA-D, "
                        "Aff-Wild2, FER2013 CSV, class folders, CSV manifest)" + data_help)
    p.add_argument("--format", default="auto", help="reader name instead of layout detection")
    p.add_argument("--label-mode", choices=["majority", "plurality", "soft", "fer2013"], help="FER+ label mode")
    p.add_argument("--contempt", dest="include_contempt", action="store_const", const=True,
                   help="keep contempt as an eighth class")
    p.add_argument("--no-contempt", dest="include_contempt", action="store_const", const=False,
                   help="drop contempt")
    p.add_argument("--calm-as-neutral", action="store_const", const=True, help="RAVDESS: merge calm into neutral")
    p.add_argument("--drop-surprise", action="store_const", const=True, help="RAVDESS: drop surprised (seed 1)")


def open_from_args(args: argparse.Namespace) -> Any:
    from emotrace.data.readers import open_dataset

    return open_dataset(args.data, args.format, label_mode=args.label_mode, include_contempt=args.include_contempt,
                        calm_as_neutral=args.calm_as_neutral, drop_surprise=args.drop_surprise)


def cmd_stats(args: argparse.Namespace) -> int:
    from emotrace.data.stats import dataset_stats, format_stats

    ds = open_from_args(args)
    st = dataset_stats(ds)
    if args.json:
        print(json.dumps(st, indent=2))
    else:
        print(format_stats(st, subject_rows=args.subjects, dataset=ds))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from emotrace.data.sheet import write_contact_sheet

    ds = open_from_args(args)
    if not len(ds):
        raise EmotraceError(f"{args.data}: no usable samples ({len(ds.skipped)} skipped)")
    out = write_contact_sheet(ds, args.out, per_class=args.per_class, tile=args.tile, seed=args.seed)
    print(f"wrote {out} ({len(ds)} samples, {len(set(ds.labels().tolist()))} classes)")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from emotrace.data.cache import CropCache, CropSettings

    ds = open_from_args(args)
    settings = CropSettings(size=args.size, gray=args.gray, detector=args.detector, align=args.align)
    report = CropCache(args.out, settings).prepare(ds, workers=args.workers, progress=not args.quiet)
    print(f"{ds.name}: {report.done} cropped, {report.reused} already cached, {report.no_face} without a face, "
          f"{report.failed} failed; cache {Path(args.out)}")
    for item, why in (report.errors or [])[:20]:
        print(f"  skipped {item}: {why}")
    return 0


def add_data_parser(sub: Any) -> None:
    d = sub.add_parser("data", help="dataset statistics, contact sheets and the face-crop cache")
    dsub = d.add_subparsers(dest="data_command", required=True)

    st = dsub.add_parser("stats", help="counts per class, split and subject, and what was skipped")
    _reader_args(st)
    st.add_argument("--json", action="store_true", help="print JSON")
    st.add_argument("--subjects", type=int, default=0, help="also list the first N subjects' counts per class")
    st.set_defaults(func=cmd_stats)

    sh = dsub.add_parser("show", help="write a contact-sheet PNG with examples of each class")
    _reader_args(sh)
    sh.add_argument("-o", "--out", required=True, help="PNG path")
    sh.add_argument("--per-class", type=int, default=8)
    sh.add_argument("--tile", type=int, default=96)
    sh.add_argument("--seed", type=int, default=0)
    sh.set_defaults(func=cmd_show)

    pr = dsub.add_parser("prepare", help="detect, align and cache face crops for every sample (resumable)")
    _reader_args(pr)
    pr.add_argument("-o", "--out", required=True, help="cache folder")
    pr.add_argument("--size", type=int, default=64, help="crop side in pixels (default 64)")
    pr.add_argument("--gray", action="store_true", help="store gray crops")
    pr.add_argument("--detector", default="auto", choices=DETECTORS)
    pr.add_argument("--align", default="auto", choices=["auto", "always", "never"],
                    help="auto: detect unless the dataset is already cropped")
    pr.add_argument("--workers", type=int, default=2)
    pr.set_defaults(func=cmd_prepare)
