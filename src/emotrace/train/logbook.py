"""Per-epoch training log: metrics.csv always (rewritten whole, so a resumed run never duplicates an epoch), and
TensorBoard event files where the tensorboard package is installed."""

from __future__ import annotations

import csv
import logging
import math
import os
from typing import Any

from emotrace.models.run_folder import RunFolder

log = logging.getLogger("emotrace")


class Logbook:
    def __init__(self, run: RunFolder, fresh: bool) -> None:
        self.path = run.log
        if fresh and self.path.exists():
            self.path.unlink()
        self.tb = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(run.tensorboard))
        except ImportError:
            log.info("tensorboard not installed: metrics go to metrics.csv only")

    def write(self, row: dict[str, Any]) -> None:
        rows = []
        if self.path.is_file():
            with open(self.path, newline="") as fh:
                rows = [r for r in csv.DictReader(fh) if int(r["epoch"]) < row["epoch"]]
        rows.append(row)
        fields = list(dict.fromkeys(k for r in rows for k in r))
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, self.path)
        if self.tb is not None:
            for k, v in row.items():
                if k != "epoch" and isinstance(v, (int, float)) and math.isfinite(v):
                    self.tb.add_scalar(k, v, row["epoch"])
            self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
