"""Identity benchmark: are photos of one person, across all their expressions, given one person id, and photos of
different people kept apart? (issue 25; docs/people.md has the figures)

    PYTHONPATH=src python benchmarks/identity.py [--shared ../shared] [--descriptor hse-faceres|dlib]
        [--distance D] [--jitters 0] [--cache DIR]
        [--populations tfeid ckplus] [--cost-rounds 3] [--process-rounds 0] [--load-costs]

Populations: TFEID performers (256 px head-and-shoulders photos, performer = the file name's first two digits; faces
found by emotrace's detector) and CK+ subjects (48 px face crops, the whole image taken as the face; one photo per
sequence, the last, and each subject's neutral photos). Each photo is linked as a one-frame track, in a fixed
seeded order, by the linker the pipeline uses (`faces/linking.py`), or with `--linking collection` by the batch's
clustering over all photos at once (`faces/clustering.py`); pairwise precision and recall are counted over
every pair of photos. A sweep over thresholds is printed too, since the threshold is the choice this benchmark
informs. With `--cache`, descriptors are kept in DIR (one file per population and variant) for reruns.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def tfeid_photos(root: Path) -> tuple[list[Path], list[str]]:
    paths = sorted(root.glob("*/*.jpg"), key=lambda p: (p.parent.name, p.name))
    return paths, [p.name[:2] for p in paths]


def ckplus_photos(root: Path) -> tuple[list[Path], list[str]]:
    last: dict[str, Path] = {}
    for p in sorted((root / "CK+48").glob("*/S*.png")):
        seq = p.name.rsplit("_", 1)[0] + p.parent.name
        last[seq] = max(last.get(seq, p), p)
    paths = sorted(last.values()) + sorted((root / "neutral").glob("S*.png"))
    return paths, [p.name[:4] for p in paths]


def describe(paths: list[Path], whole: bool, jitters: int, mirror: bool,
             descriptor: str = "hse-faceres") -> tuple[np.ndarray, np.ndarray, float]:
    """Descriptors of the biggest face of each photo (NaN where none was found) and the seconds per descriptor."""
    import cv2

    from emotrace.faces.detectors import create_detector
    from emotrace.faces.identity import FaceEmbedder

    embedder = FaceEmbedder(jitters=jitters, mirror=mirror, descriptor=descriptor)
    detector = None if whole else create_detector("auto")
    out = np.full((len(paths), embedder.dim), np.nan, np.float32)
    face_px = np.zeros(len(paths), np.float32)
    spent, n = 0.0, 0
    for i, p in enumerate(paths):
        img = cv2.imread(str(p))
        if whole:
            box = np.array([0, 0, img.shape[1], img.shape[0]], np.float32)
        else:
            dets = detector.detect(img)
            if not len(dets):
                continue
            wh = dets.boxes[:, 2:] - dets.boxes[:, :2]
            box = dets.boxes[int(np.argmax(wh.prod(1)))]
        face_px[i] = min(box[2] - box[0], box[3] - box[1])
        t = time.perf_counter()
        out[i] = embedder([(img, box)])[0]
        spent += time.perf_counter() - t
        n += 1
    if detector is not None:
        detector.close()
    return out, face_px, spent / max(n, 1)


def link_photos(desc: np.ndarray, distance: float, seed: int = 0) -> np.ndarray:
    """Person ids from linking each photo as a one-frame track, in a seeded random order."""
    from emotrace.faces.linking import PersonLinker

    linker = PersonLinker(distance)
    ids = np.zeros(len(desc), np.int64)
    for i in np.random.default_rng(seed).permutation(len(desc)):
        ids[i] = linker.link(int(i), desc[i][None])[0]
    return ids


def cluster_photos(desc: np.ndarray, distance: float, seed: int = 0) -> np.ndarray:
    """Person ids from the batch's collection-level clustering (`faces/clustering.py`: agglomerative average
    linkage over all photos at once), each photo a file of its own: what `emotrace batch` gives a folder of photos
    (`--through-batch` measures that whole path)."""
    from emotrace.faces.clustering import cluster_people

    return np.asarray(cluster_people(desc, distance, files=[str(i) for i in range(len(desc))]), np.int64)


def pairwise(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Pairwise precision (pairs put together that are one person) and recall (one person's pairs put together)."""
    iu = np.triu_indices(len(pred), 1)
    same_p = (pred[:, None] == pred[None, :])[iu]
    same_t = (truth[:, None] == truth[None, :])[iu]
    tp = float(np.sum(same_p & same_t))
    return tp / max(float(same_p.sum()), 1.0), tp / max(float(same_t.sum()), 1.0)


def run_population(name: str, paths: list[Path], people: list[str], whole: bool, args: argparse.Namespace) -> dict:
    variant = f"{args.descriptor}_j{args.jitters}" + ("m" if args.mirror else "")
    cache = Path(args.cache) / f"{name}_{variant}.npz" if args.cache else None
    if cache is not None and cache.is_file():
        z = np.load(cache)
        desc, face_px, per = z["desc"], z["face_px"], float(z["per"])
    else:
        desc, face_px, per = describe(paths, whole, args.jitters, args.mirror, args.descriptor)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, desc=desc, face_px=face_px, per=per)
    ok = ~np.isnan(desc[:, 0])
    truth = np.unique(np.asarray(people)[ok], return_inverse=True)[1]
    d = desc[ok]
    print(f"\n{name}: {len(paths)} photos, {ok.sum()} with a face, {len(set(truth))} people, median face "
          f"{np.median(face_px[ok]):.0f} px, {per * 1000:.0f} ms per descriptor ({variant})")
    print("  distance  precision  recall  ids")
    chosen = {}
    for thr in sorted({*args.sweep, args.distance}):
        pred = (cluster_photos if args.linking == "collection" else link_photos)(d, thr, args.seed)
        p, r = pairwise(pred, truth)
        mark = " <- chosen" if thr == args.distance else ""
        print(f"  {thr:8.2f}  {p:9.4f}  {r:6.4f}  {len(set(pred)):3d}{mark}")
        if thr == args.distance:
            chosen = {"precision": p, "recall": r, "ids": len(set(pred)), "people": len(set(truth))}
    return chosen


def cost(video: Path, rounds: int) -> None:
    """Seconds to analyse `video` (the `emotrace analyze` path: api.run, no outputs written) with person linking
    off and on, alternated, in this one process; the ratio of the medians."""
    from emotrace.api import analyze
    from emotrace.pipeline import Analyzer

    off, on = Analyzer(person_distance=0), Analyzer()
    times: dict[str, list[float]] = {"off": [], "on": []}
    analyze(str(video), analyzer=off)  # warm-up: decoder, models, first-call costs
    for _ in range(rounds):
        for name, an in (("off", off), ("on", on)):
            t = time.perf_counter()
            df = analyze(str(video), analyzer=an)
            times[name].append(time.perf_counter() - t)
    m_off, m_on = float(np.median(times["off"])), float(np.median(times["on"]))
    print(f"\ncost on {video.name} ({df['frame'].nunique()} frames, {df['track_id'].nunique()} tracks, "
          f"{on.people.descriptors} descriptors taking {on.people.seconds:.2f} s): off {m_off:.2f} s, on {m_on:.2f} s "
          f"(medians of {rounds}, alternated), ratio {m_on / m_off:.3f}; descriptors over off "
          f"{1 + on.people.seconds / m_off:.3f} (goal <= 1.10)")


def emotrace_command() -> list[str]:
    """The `emotrace` command of this Python (its console script, or the CLI through -c)."""
    script = Path(sys.executable).parent / "emotrace"
    return [str(script)] if script.is_file() else [sys.executable, "-c",
                                                   "import sys; from emotrace.cli import main; sys.exit(main())"]


def through_batch(name: str, paths: list[Path], people: list[str], workers: int) -> None:
    """The product's own path: `emotrace batch` over the photos (each an item: detection, its face described after
    the item, the collection clustered at the default `--link-distance`), scored from `person_items.parquet`
    (photos where no face was found count as a person of their own, so they can only lower recall)."""
    import tempfile

    import pandas as pd

    cli = emotrace_command()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for i, p in enumerate(paths):  # flat names, in a fixed order: item ids follow them
            (folder / f"{i:05d}{p.suffix}").symlink_to(p.resolve())
        t = time.perf_counter()
        subprocess.run(cli + ["-q", "batch", str(folder), "-o", str(Path(tmp) / "out"), "--workers", str(workers)],
                       check=True, capture_output=True)
        seconds = time.perf_counter() - t
        items = pd.read_parquet(Path(tmp) / "out" / "person_items.parquet")
    where = {str(p.resolve()): i for i, p in enumerate(paths)}  # batch records the file a link points to
    index = items["path"].map(lambda q: where[str(Path(q).resolve())])
    main = items.assign(index=index).sort_values(["index", "frames"], ascending=[True, False]).drop_duplicates("index")
    pred = np.arange(len(paths), dtype=np.int64) + 10**6  # no face found: a person of its own
    pred[main["index"].to_numpy()] = main["collection_person_id"].to_numpy()
    truth = np.unique(np.asarray(people), return_inverse=True)[1]
    p, r = pairwise(pred, truth)
    described = int((main["linked_by"] == "face").sum())
    print(f"\n{name} through `emotrace batch` ({len(paths)} photos, {described} faces described, {seconds:.0f} s with "
          f"{workers} workers): precision {p:.4f}, recall {r:.4f}, {len(set(pred))} ids for {len(set(truth))} people")


def process_cost(video: Path, rounds: int) -> None:
    """The issue's cost goal as a user meets it: whole `emotrace -q analyze VIDEO --outputs csv` processes (start-up,
    model loads, the run, the CSV), linking off (`--person-distance 0`) and on (default) alternated; medians."""
    import tempfile

    cli = emotrace_command()
    times: dict[str, list[float]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(rounds):
            for name, extra in (("off", ["--person-distance", "0"]), ("on", [])):
                out = Path(tmp) / f"{name}{k}"
                t = time.perf_counter()
                subprocess.run(cli + ["-q", "analyze", str(video), "--outputs", "csv", "--out", str(out)] + extra,
                               check=True, capture_output=True)
                times[name].append(time.perf_counter() - t)
    m_off, m_on = float(np.median(times["off"])), float(np.median(times["on"]))
    print(f"\nwhole process on {video.name}: off {m_off:.2f} s, on {m_on:.2f} s (medians of {rounds}, alternated), "
          f"ratio {m_on / m_off:.3f} (goal <= 1.10)")


def load_costs() -> None:
    """Where linking's fixed cost goes, once per process: dlib's import, the weights' SHA-256 checks, the two model
    loads; one descriptor; and whether a descriptor or a model load lets other Python threads run (a counting
    loop's rate beside it over its rate alone: 1.0 = the GIL is released)."""
    import threading

    t = time.perf_counter()
    import dlib

    from emotrace.faces import identity as ident
    steps = {"import dlib": time.perf_counter() - t}
    t = time.perf_counter()
    shape = ident.weights_path(ident.SHAPE_FILE, ident.SHAPE_SHA256)
    net_file = ident.weights_path(ident.DESCRIPTOR_FILE, ident.DESCRIPTOR_SHA256)
    steps["SHA-256 checks"] = time.perf_counter() - t
    t = time.perf_counter()
    dlib.shape_predictor(str(shape))
    steps["shape predictor load"] = time.perf_counter() - t
    t = time.perf_counter()
    net = dlib.face_recognition_model_v1(str(net_file))
    steps["descriptor network load"] = time.perf_counter() - t
    chip = np.random.default_rng(0).integers(0, 255, (150, 150, 3), dtype=np.uint8)
    net.compute_face_descriptor([chip])
    t = time.perf_counter()
    net.compute_face_descriptor([chip] * 3)
    steps["one descriptor (of 3)"] = (time.perf_counter() - t) / 3

    def spin(seconds: float) -> int:
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            n += 1
        return n

    def beside(work) -> float:
        alone = spin(0.3)
        th = threading.Thread(target=work)
        th.start()
        during = spin(0.3)
        th.join()
        return during / alone

    print("\nlinking's fixed cost (seconds):")
    for name, sec in steps.items():
        print(f"  {name:26s} {sec:.3f}")
    print(f"  a Python loop's rate beside descriptors {beside(lambda: net.compute_face_descriptor([chip] * 6)):.2f}, "
          f"beside a network load {beside(lambda: dlib.face_recognition_model_v1(str(net_file))):.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--distance", type=float, default=None, help="linking threshold (default: the descriptor's)")
    ap.add_argument("--descriptor", default="hse-faceres", choices=["hse-faceres", "dlib"],
                    help="face descriptor (faces.identity.DESCRIPTORS; the default distance follows it)")
    ap.add_argument("--sweep", type=float, nargs="*", default=None,
                    help="thresholds to print besides the chosen one (default: around the descriptor's default)")
    ap.add_argument("--jitters", type=int, default=0, help="descriptor variant: dlib's jittered average")
    ap.add_argument("--mirror", action="store_true", help="descriptor variant: averaged with the mirror image's")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--linking", choices=["online", "collection"], default="online",
                    help="online: the pipeline's within-file linker, photo by photo in a seeded order; collection: "
                         "the batch's clustering over all photos at once")
    ap.add_argument("--cache", default=None, help="keep descriptors here (outside the repo)")
    ap.add_argument("--populations", nargs="*", default=["tfeid", "ckplus"], choices=["tfeid", "ckplus"])
    ap.add_argument("--cost-rounds", type=int, default=3, help="timed runs each way of the cost check (0: none)")
    ap.add_argument("--load-costs", action="store_true",
                    help="also time linking's fixed, once-per-process costs (dlib's descriptor)")
    ap.add_argument("--through-batch", action="store_true",
                    help="also run the populations through `emotrace batch` (each photo an item) and score that")
    ap.add_argument("--workers", type=int, default=2, help="batch workers for --through-batch")
    ap.add_argument("--process-rounds", type=int, default=0,
                    help="whole `emotrace analyze` processes each way, alternated (0: none)")
    args = ap.parse_args()
    from emotrace.faces.identity import DEFAULT_DISTANCE

    if args.distance is None:
        args.distance = DEFAULT_DISTANCE[args.descriptor]
    if args.sweep is None:
        args.sweep = [round(args.distance * f, 3) for f in (0.8, 0.9, 0.95, 1.05, 1.1, 1.2)]
    shared = Path(args.shared)
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"command: {' '.join(sys.argv)}  commit: {commit}")
    res = {}
    tfeid = shared / "data" / "tfeid"
    if tfeid.is_dir() and "tfeid" in args.populations:
        res["tfeid"] = run_population("tfeid", *tfeid_photos(tfeid), whole=False, args=args)
        if args.through_batch:
            through_batch("tfeid", *tfeid_photos(tfeid), workers=args.workers)
    ck = shared / "data" / "ckplus"
    if ck.is_dir() and "ckplus" in args.populations:
        res["ckplus"] = run_population("ckplus", *ckplus_photos(ck), whole=True, args=args)
        if args.through_batch:
            through_batch("ckplus", *ckplus_photos(ck), workers=args.workers)
    video = shared / "media" / "WolfgangLanger_Pexels.mp4"
    if args.cost_rounds and video.is_file():
        cost(video, args.cost_rounds)
    if args.process_rounds and video.is_file():
        process_cost(video, args.process_rounds)
    if args.load_costs:
        load_costs()
    if not res:
        return 0
    goals = {"tfeid": (0.99, 0.90), "ckplus": (0.99, 0.0)}
    print(f"\nat distance {args.distance}:")
    for name, r in res.items():
        gp, gr = goals[name]
        verdict = "met" if r["precision"] >= gp and r["recall"] >= gr else "MISSED"
        print(f"  {name}: precision {r['precision']:.4f} (goal {gp}), recall {r['recall']:.4f}"
              f"{f' (goal {gr})' if gr else ''}, {r['ids']} ids for {r['people']} people: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
