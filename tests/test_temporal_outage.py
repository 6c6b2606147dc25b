"""A Temporal call that never got through (the server restarting, a dropped connection) is a 503 worth retrying;
one the server answered is not."""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from api.temporal_errors import temporal_call
from api.temporal_outage import temporal_unreachable


@pytest.mark.parametrize(
    ("status", "message", "unreachable"),
    [
        (RPCStatusCode.UNAVAILABLE, "tcp connect error", True),
        (RPCStatusCode.DEADLINE_EXCEEDED, "deadline", True),
        (RPCStatusCode.CANCELLED, "h2 protocol error: http2 error", True),
        (RPCStatusCode.UNKNOWN, "transport error", True),
        (RPCStatusCode.CANCELLED, "workflow query timeout", False),
        (RPCStatusCode.INVALID_ARGUMENT, "transport error in your query", False),
        (RPCStatusCode.NOT_FOUND, "workflow not found", False),
        (RPCStatusCode.UNKNOWN, "something else", False),
    ],
)
def test_only_failures_on_the_way_to_temporal_count_as_unreachable(
    status: RPCStatusCode, message: str, unreachable: bool
) -> None:
    assert temporal_unreachable(RPCError(message, status, b"")) is unreachable


async def test_a_dropped_connection_becomes_a_503_the_client_may_retry() -> None:
    with pytest.raises(ApiError) as info:
        async with temporal_call(ApiError(404, "x", "x", "x")):
            raise RPCError("h2 protocol error: http2 error", RPCStatusCode.CANCELLED, b"")
    assert (info.value.status, info.value.code) == (503, "temporal_unavailable")


async def test_an_update_refused_while_the_run_recovers_is_a_503_too() -> None:
    refused = RPCError(
        "Unable to perform workflow execution update due to Workflow Task in failed state.",
        RPCStatusCode.FAILED_PRECONDITION,
        b"",
    )
    with pytest.raises(ApiError) as info:
        async with temporal_call(ApiError(404, "x", "x", "x")):
            raise refused
    assert (info.value.status, info.value.code) == (503, "workflow_recovering")
