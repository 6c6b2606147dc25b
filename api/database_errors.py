"""Telling a database that is down, restarting or busy from a bug: the first is worth a 503 and a retry, the second
stays a 500. Used by the API's last-resort error handler."""

from __future__ import annotations

from sqlalchemy import exc as sa

# SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown, restart).
UNAVAILABLE_CLASSES = ("08", "53", "57")
UNAVAILABLE_TEXTS = (
    "database is locked",  # SQLite: the single writer stayed busy past the busy timeout
    "unable to open database",
    "disk i/o error",
    "not currently accepting connections",
    "the database system is starting up",
    "the database system is shutting down",
    "connection was closed",
    "connection is closed",
)
RETRY_AFTER_SECONDS = 5


def sqlstate(error: BaseException | None) -> str:
    """The SQLSTATE a driver attached to its error, if any."""
    for name in ("sqlstate", "pgcode"):
        value = getattr(error, name, None)
        if isinstance(value, str):
            return value
    return ""


def database_unavailable(exc: BaseException) -> bool:
    """Whether the error says the database cannot be reached or refuses work for now."""
    if isinstance(exc, sa.TimeoutError | ConnectionRefusedError | ConnectionResetError):
        return True  # the pool waited in vain, or nothing listens where the database should be
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated or sqlstate(exc.orig).startswith(UNAVAILABLE_CLASSES):
            return True
        text = str(exc.orig).lower()
        return any(t in text for t in UNAVAILABLE_TEXTS)
    return False
