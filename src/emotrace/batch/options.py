"""`BatchOptions`: everything `emotrace batch` takes besides the pipeline's AnalyzerConfig, with its defaults,
choices and help. Light (no pandas, no models): `emotrace --help` builds the batch options from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from emotrace.outputs import ALL_OUTPUTS

ENGINES = ("local", "ray")


@dataclass
class BatchOptions:
    """A field with a `help` is also an option of `emotrace batch`, generated from it (emotrace.cli_options)."""

    inputs: list[str] = field(metadata={
        "flag": "inputs", "nargs": "+", "help": "folders (searched recursively), files, globs, or manifests "
                                                "(.csv/.parquet with a 'path' column; other columns reach every row)"})
    out: str = field(metadata={
        "flag": ("-o", "--out"), "help": "the collection folder (rerun with the same folder to resume)"})
    outputs: tuple[str, ...] = field(default=("csv", "summary"), metadata={
        "help": f"per-item outputs, comma list of {','.join(ALL_OUTPUTS)}, or all"})
    sequence: bool = field(default=False, metadata={
        "help": "the images of each folder are one video's frames (one item per folder)"})
    engine: str = field(default="local", metadata={
        "choices": ENGINES, "help": 'local worker processes or a Ray cluster (pip install "emotrace[ray]")'})
    workers: int | None = field(default=None, metadata={
        "help": "workers, each holding the models (default: local CPU count; ray: cluster CPUs / "
                "--cpus-per-worker)"})
    address: str | None = field(default=None, metadata={
        "help": "ray: cluster address (auto, ray://head:10001); default: start Ray here"})
    cpus_per_worker: float = field(default=1.0, metadata={"help": "ray: CPUs per worker actor"})
    gpus_per_worker: float = field(default=0.0, metadata={"help": "ray: GPUs per worker actor"})
    retry_failed: bool = field(default=False, metadata={"help": "run items that failed before again"})
    prune: bool = field(default=False, metadata={
        "help": "remove items of earlier runs that are not among the inputs"})
    link_distance: float | None = field(default=None, metadata={
        "help": "link the items' persons into collection persons when the mean distance between their face "
                "descriptors is within this; lower is stricter (default: --person-distance; 0: person ids stay "
                "per item)"})
    identity_column: str | None = field(default=None, metadata={
        "help": "manifest column naming each item's participant (e.g. participant): it names the item's main "
                "person and wins over faces"})
    progress: bool = True  # the CLI's -q turns it off
