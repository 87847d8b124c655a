"""Every knob and limit of the server in one dataclass, so the CLI, the app and the tests agree on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ServerSettings:
    """Defaults suit one 2-core machine: one job at a time, a few live sockets, localhost only. A field with a
    `help` is also an option of `emotrace serve`, generated from it (emotrace.cli_options)."""

    host: str = field(default="127.0.0.1", metadata={
        "help": "address to listen on; 127.0.0.1 is this machine only"})
    port: int = field(default=8000, metadata={"help": "port"})
    data_dir: Path = field(default=Path("emotrace-data"), metadata={
        "help": "job store (jobs.sqlite3) and one results folder per job"})
    max_upload_mb: float = field(default=200.0, metadata={"help": "largest upload in MB"})
    max_jobs: int = field(default=1, metadata={"help": "jobs analysed at once, each in its own worker process"})
    max_queue: int = field(default=16, metadata={"help": "jobs waiting; past it a submission gets 503"})
    max_sockets: int = field(default=4, metadata={
        "help": "live WebSocket sessions at once; past it a new one is closed with 1013 (503)"})
    job_timeout_s: float = field(default=1800.0, metadata={
        "flag": "--job-timeout", "help": "seconds before a running job is stopped and marked failed"})
    upload_timeout_s: float = 300.0  # the whole request body must arrive within this
    ws_idle_s: float = field(default=30.0, metadata={
        "flag": "--ws-idle", "help": "seconds a live socket may send no frame before it is closed"})
    max_frame_bytes: int = 4 * 1024 * 1024  # one live frame (JPEG/PNG/WebP)
    max_frame_side: int = 1920  # live frames larger than this on either side are refused
    token: str | None = field(default=None, metadata={
        "help": "require this API token (Authorization: Bearer; the pages ask for it once; or set EMOTRACE_TOKEN); "
                "default: none"})
    cors_origins: list[str] = field(default_factory=list, metadata={  # empty: CORS off, cross-origin sockets refused
        "flag": "--cors-origin", "help": "allow this browser origin (repeatable); default: none"})
    analyzer: dict[str, Any] = field(default_factory=dict)  # AnalyzerConfig.to_dict() for jobs and live sessions

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Refuse limits that would break the server, whoever builds the settings (the CLI or a program calling
        `create_app`); the analyzer options get the same check as everywhere else (AnalyzerConfig)."""
        from emotrace.analyzer_config import AnalyzerConfig
        from emotrace.errors import EmotraceError

        for name in ("max_upload_mb", "max_jobs", "max_queue", "max_sockets", "job_timeout_s", "upload_timeout_s",
                     "ws_idle_s", "max_frame_bytes", "max_frame_side"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise EmotraceError(f"{name} must be more than 0")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise EmotraceError("port must be 0-65535")
        if Path(self.data_dir).exists() and not Path(self.data_dir).is_dir():
            raise EmotraceError(f"data_dir {self.data_dir} exists and is not a folder")
        AnalyzerConfig.from_dict(self.analyzer)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def limits(self) -> dict[str, Any]:
        """The limits a client may want to know (served by /api/v1/health)."""
        return {"max_upload_bytes": self.max_upload_bytes, "max_jobs": self.max_jobs, "max_queue": self.max_queue,
                "max_sockets": self.max_sockets, "job_timeout_s": self.job_timeout_s,
                "upload_timeout_s": self.upload_timeout_s, "ws_idle_s": self.ws_idle_s,
                "max_frame_bytes": self.max_frame_bytes, "max_frame_side": self.max_frame_side,
                "token_required": self.token is not None}
