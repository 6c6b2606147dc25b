"""Telling a Temporal call that never got through (server down or restarting, a dropped connection) from one the
server answered: the first is a 503 worth retrying, the second is the caller's or a bug."""

from __future__ import annotations

from temporalio.service import RPCError, RPCStatusCode

TRANSPORT_FAILURES = ("transport error", "h2 protocol error", "connection reset", "broken pipe", "connection refused")


def temporal_unreachable(exc: RPCError) -> bool:
    """Whether the call failed on the way to Temporal, not in it."""
    if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return True
    return exc.status in (RPCStatusCode.CANCELLED, RPCStatusCode.UNKNOWN) and any(
        failure in exc.message.lower() for failure in TRANSPORT_FAILURES
    )
