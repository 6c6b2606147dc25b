"""JSON log lines, one object per line, carrying the workflow id wherever there is one: from the Temporal SDK's
workflow and activity loggers (their `temporal_workflow` / `temporal_activity` extras), and in the API from the
project or competition the request is about (a project's id is its workflow id)."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
WORKFLOW_ID: ContextVar[str | None] = ContextVar("workflow_id", default=None)
_PROJECT_PATH = re.compile(r"^/projects/([A-Za-z0-9._-]+)")
_COMPETITION_PATH = re.compile(r"^/competitions/([A-Za-z0-9._-]+)")


def workflow_of_path(path: str) -> str | None:
    """The workflow a request path is about: `/projects/ln-P00001/…` → its project's, `/competitions/ln/…` → the
    competition's; None otherwise."""
    if found := _PROJECT_PATH.match(path):
        return found.group(1)
    if found := _COMPETITION_PATH.match(path):
        return f"competition-{found.group(1)}"
    return None


class JsonFormatter(logging.Formatter):
    """`{"at", "level", "logger", "message", "workflow_id", …}`; Chinese kept as is."""

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON for one record."""
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        workflow: dict[str, Any] | None = getattr(record, "temporal_workflow", None)
        activity: dict[str, Any] | None = getattr(record, "temporal_activity", None)
        if workflow:
            entry |= {"workflow_id": workflow.get("workflow_id"), "run_id": workflow.get("run_id")}
            entry["workflow_type"] = workflow.get("workflow_type")
        elif activity:
            entry |= {"workflow_id": activity.get("workflow_id"), "run_id": activity.get("workflow_run_id")}
            entry |= {"activity_type": activity.get("activity_type"), "attempt": activity.get("attempt")}
        elif (workflow_id := WORKFLOW_ID.get()) is not None:
            entry["workflow_id"] = workflow_id
        if (request_id := REQUEST_ID.get()) is not None:
            entry["request_id"] = request_id
        for key in ("method", "path", "status", "duration_ms"):
            if (value := getattr(record, key, None)) is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route every logger (the SDK's, uvicorn's, ours) through one stderr handler, JSON unless `fmt` is text."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # the API logs each request itself, with its workflow id
