"""`emotrace serve`: a FastAPI app with an upload page, a live webcam page and a versioned HTTP API (/api/v1).

Modules, one job each: `settings` (every limit in one place), `security` (sniffing, token, origin, body limit),
`store` (SQLite job rows), `jobs` (bounded queue and worker threads), `worker` (the child process that runs the
pipeline), `live` (one WebSocket session), `results` (reading a finished job's files), `config` (the analyzer config
as it travels), `schemas` (API bodies), `openapi` (the schema rewrite), `routes` (every route), `app` (builds the app).
"""

from emotrace.web.settings import ServerSettings

__all__ = ["ServerSettings"]
