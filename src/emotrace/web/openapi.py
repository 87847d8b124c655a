"""The OpenAPI document as the server behaves, not as FastAPI would guess it: the API's description (the live
WebSocket protocol, the token, the error shape, which the schema cannot express) and the rewrite of FastAPI's
generated schema to match the exception handlers and the token gate."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

API_DESCRIPTION = """\
Face-emotion analysis of uploaded images and videos (jobs), and of live frames over a WebSocket.

**Jobs.** `POST /api/v1/jobs` with a multipart `file` queues a job (202); an optional `signals` field asks for
face signals every N frames of each face (0: off; left out: the server's `--signals`, see `job_defaults` in
`/api/v1/health`), and the job's `signals` says what it got. Poll `GET /api/v1/jobs/{id}` until
`status` is `done` or `failed` (`queue_position` says how many jobs are ahead, `warnings` what to know about a
finished one, such as a truncated upload or no face found); then fetch
`results/{csv|parquet|jsonl|json|summary|video|image}` (`image`: the annotated picture of an image job), or
`archive` (every file the job wrote, in one zip), `table` pages, per-track `timelines/{track_id}` charts and,
for a job run with signals, `signals` (chosen blendshapes and the head pose per track over time).
`DELETE` removes a job and its files, stopping it if it runs.
`GET /api/v1/jobs` pages with `limit` and `offset` (newest first); its `X-Total-Count` header counts every job.
The 202 answer of a submission carries OpenAPI links to every operation on the new job.
Limits: uploads over `max_upload_bytes` get 413, non-media content 415, a full queue 503 (see `/api/v1/health`).

**Live stream** (WebSocket, not listed below): `ws://HOST/api/v1/live` (with `--token`: the
`Authorization` header, or the pages' session cookie). The server first sends
`{"type": "ready", "classes": [...], "signals": N}` (face signals every N frames of a track, 0 off: at first the
server's `--signals`). Send each
frame as one binary message (JPEG, PNG or WebP); each gets one JSON answer `{"type": "result", "seq", "width",
"height", "detected", "server_ms", "faces": [...]}`, each face with the table's face columns, names and precision
(`track_id`, `x1`..`y2`, `det_score`, `detected`, `crop`, `frame_*`, `temporal_*`, `label`, `label_prob`,
`frame_label`, and `valence`, `arousal` where the model has them; with signals on, `signals` (measured or skipped),
`signals_quality`, `yaw`, `pitch`, `roll` and `bs_*`), or `{"type": "error", "status", "detail"}`.
Send the next frame after the answer. Text `{"type": "reset"}` forgets all tracks; `{"type": "config", "signals": N}`
(0 to 10000, or null for the server's setting) switches this session's face signals, its tracks start afresh, and
the server says `ready` again (a bad value, or any other text: an error with `"config": true`, no frame's answer,
the session unchanged). Past `max_sockets` sessions the server sends an error with status 503 and closes with code
1013 (try again later); a wrong token gets 401 and code 1008; no frame for `ws_idle_s` closes the socket.

**Token.** When the server runs with `--token`, every call but `/api/v1/health` and this schema
(`/api/v1/openapi.json`, open so that clients can discover the API) needs `Authorization: Bearer TOKEN`
(the pages trade it once for an HttpOnly session cookie; `?token=TOKEN` still works for old clients but puts the
token in addresses); without it the answer is 401 before anything else, an oversized upload included.

**Errors.** Every error answer is JSON `{"detail": "one line"}`, validation errors (422) included.
"""


def openapi(app: FastAPI, secured_token: bool) -> dict[str, Any]:
    """The schema as the server behaves: 422 bodies are `{"detail": str}` (not FastAPI's list), and with --token
    every operation but health declares the bearer token."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    comps = spec.setdefault("components", {})
    schemas = comps.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if secured_token:
        comps["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "the server's --token as `Authorization: Bearer TOKEN`"},
            "query": {"type": "apiKey", "in": "query", "name": "token",
                      "description": "the same token as `?token=TOKEN` (for <video>, <img> and links)"}}
    _declare_upload(spec)
    _link_submission(spec)
    for path, ops in spec.get("paths", {}).items():
        for op in ops.values():
            for code, resp in op.get("responses", {}).items():
                if code == "422" or (code.isdigit() and int(code) >= 400):
                    resp["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
            if path != "/api/v1/health" and secured_token:
                op["security"] = [{"bearer": []}, {"query": []}]
            elif not secured_token:
                op.get("responses", {}).pop("401", None)
    app.openapi_schema = spec
    return spec


def _declare_upload(spec: dict[str, Any]) -> None:
    """The upload as the server takes it: a non-empty binary part of one of the media types it recognises by
    content (an empty part gets 400, other bytes 415; both answers are documented), so that schema-driven
    clients send a file, not any string."""
    from emotrace.web.schemas import MAX_SIGNALS
    from emotrace.web.security import ACCEPTED_MEDIA_TYPES

    op = spec["paths"]["/api/v1/jobs"]["post"]
    form = op["requestBody"]["content"]["multipart/form-data"]
    ref = form["schema"]["$ref"].rsplit("/", 1)[-1]
    part = spec["components"]["schemas"][ref]["properties"]["file"]
    part.pop("contentMediaType", None)
    part.update({"type": "string", "format": "binary", "minLength": 1,
                 "description": "an image or a video, recognised by its content: " + ", ".join(ACCEPTED_MEDIA_TYPES)})
    form["encoding"] = {"file": {"contentType": ", ".join(ACCEPTED_MEDIA_TYPES)}}
    # `signals` is read from the raw form by the route (a bad value gets 400, not FastAPI's 422): declared here.
    spec["components"]["schemas"][ref]["properties"]["signals"] = {
        "type": "integer", "minimum": 0, "maximum": MAX_SIGNALS, "title": "Signals",
        "description": "face signals (blendshapes, head pose, landmarks) every N frames of each face; 0: off; "
                       "left out: the server's setting (`job_defaults.signals` in /api/v1/health)"}
    op["responses"]["400"]["description"] = f"the uploaded file is empty, or signals is not 0 to {MAX_SIGNALS}"
    op["responses"]["415"]["description"] = "the file is not an image or a video by its content"


# OpenAPI links from a submission (its `id`) to every operation on that job, so that schema-driven clients and the
# fuzzer's stateful phase reach them with a real job rather than only a random id's 404.
JOB_LINKS = {"GetJob": "job_status_api_v1_jobs__job_id__get",
             "GetResult": "result_api_v1_jobs__job_id__results__fmt__get",
             "GetArchive": "results_archive_api_v1_jobs__job_id__archive_get",
             "GetTimeline": "timeline_api_v1_jobs__job_id__timelines__track_id__get",
             "GetTable": "table_api_v1_jobs__job_id__table_get",
             "GetSignals": "signals_api_v1_jobs__job_id__signals_get",
             "DeleteJob": "delete_job_api_v1_jobs__job_id__delete"}


def _link_submission(spec: dict[str, Any]) -> None:
    """Put `JOB_LINKS` on the 202 answer of `POST /api/v1/jobs` (the job id from the body)."""
    known = {op["operationId"] for ops in spec["paths"].values() for op in ops.values()}
    missing = set(JOB_LINKS.values()) - known
    if missing:  # a renamed route: fail loudly here, not as a link to nowhere
        raise RuntimeError(f"OpenAPI links name unknown operations: {sorted(missing)}")
    accepted = spec["paths"]["/api/v1/jobs"]["post"]["responses"]["202"]
    accepted["links"] = {name: {"operationId": oid, "parameters": {"job_id": "$response.body#/id"},
                                "description": "the submitted job"} for name, oid in JOB_LINKS.items()}
