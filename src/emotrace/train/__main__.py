"""`python -m emotrace.train CONFIG [--resume] [--set k=v ...]`: the entry point `torchrun` starts once per
process (`torchrun --nproc-per-node N -m emotrace.train CONFIG`); `emotrace train --nproc N` does the same."""

from __future__ import annotations

import sys

from emotrace.cli_train import train_main

if __name__ == "__main__":
    sys.exit(train_main(sys.argv[1:]))
