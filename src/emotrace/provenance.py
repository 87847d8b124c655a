"""Who made an output and how: command, package version, git commit, config. Every report carries this."""

from __future__ import annotations

import functools
import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


@functools.lru_cache(maxsize=8)
def git_commit(path: Path | None = None) -> str:
    """The commit of the checkout the package runs from ('unknown' outside a checkout); '+dirty' if modified.
    Asked once per process: the code that runs is the code imported at start (a batch runs thousands of items)."""
    where = path or Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                               capture_output=True, text=True, timeout=5)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


_ARGV: list[str] | None = None


def set_command(argv: list[str]) -> None:
    """Record the argument vector the command line was given (the CLI calls this), so reports can quote it."""
    global _ARGV
    _ARGV = [str(a) for a in argv]


def command_argv() -> list[str]:
    """The real argument vector: the CLI's as given, else this process's (script name without its folder)."""
    if _ARGV is not None:
        return list(_ARGV)
    return [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else []


def command_line() -> str:
    """The command quoted for a POSIX shell, so a path with spaces can be pasted back and re-run."""
    return shlex.join(command_argv())


def provenance(config: dict[str, Any] | None = None) -> dict[str, Any]:
    from emotrace.version import __version__

    return {
        "command": command_line(),
        "argv": command_argv(),
        "emotrace_version": __version__,
        "commit": git_commit(),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.system()} python {platform.python_version()}",
        "config": config or {},
    }
