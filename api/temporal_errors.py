"""Turn Temporal client failures into ApiErrors: a rejected update keeps its code and bilingual message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import REJECTION_STATUS, ApiError, temporal_unavailable
from api.temporal_outage import temporal_unreachable


def _from_application_error(error: ApplicationError) -> ApiError:
    details = error.details[0] if error.details and isinstance(error.details[0], dict) else {}
    code = error.type or "rejected"
    return ApiError(
        REJECTION_STATUS.get(code, 409),
        code,
        str(details.get("zh", error.message)),
        str(details.get("en", error.message)),
    )


@asynccontextmanager
async def temporal_call(not_found: ApiError) -> AsyncIterator[None]:
    """Run Temporal client calls; map rejections, missing workflows and outages to ApiErrors."""
    try:
        yield
    except WorkflowUpdateFailedError as exc:
        cause: BaseException | None = exc.cause
        while cause is not None and not isinstance(cause, ApplicationError):
            cause = cause.__cause__
        if isinstance(cause, ApplicationError):
            raise _from_application_error(cause) from exc
        raise ApiError(409, "update_failed", "决定未被接受", f"the decision was not accepted: {exc}") from exc
    except WorkflowQueryFailedError as exc:
        raise ApiError(
            503,
            "workflow_unreadable",
            "暂时无法读取项目状态，请稍后重试",
            f"the project's state cannot be read right now: {exc}",
        ) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND and "completed" in exc.message:
            raise ApiError(
                409, "project_closed", "项目已结束，不能再作决定", "the project has ended; no more decisions"
            ) from exc
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise not_found from exc
        if exc.status == RPCStatusCode.CANCELLED and "timeout" in exc.message.lower():
            # No worker answered in time (one was restarting, say): the run is fine, its state is late.
            raise ApiError(
                503,
                "workflow_unreadable",
                "项目流程暂时没有响应，请稍后重试",
                "the project's workflow did not answer in time; please try again shortly",
            ) from exc
        if temporal_unreachable(exc):
            raise temporal_unavailable() from exc
        if "workflow task in failed state" in exc.message.lower():
            # The server refuses updates while the run's task is being retried (its worker died mid-task): it
            # recovers on the next attempt, so the same request may be sent again shortly.
            raise ApiError(
                503,
                "workflow_recovering",
                "项目流程正在恢复，请稍后重试",
                "the project's workflow is recovering; please try again shortly",
            ) from exc
        raise
