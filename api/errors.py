"""Every error the API returns: JSON with a stable code and a message in Chinese and English."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from api.database_errors import RETRY_AFTER_SECONDS, database_unavailable
from api.temporal_outage import temporal_unreachable

logger = logging.getLogger("contestflow.api")


class ApiError(Exception):
    """An error with its HTTP status, stable code and bilingual message."""

    def __init__(self, status: int, code: str, zh: str, en: str, **extra: Any) -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en, self.extra = status, code, zh, en, extra


def competition_not_found(code: str) -> ApiError:
    """The 404 for an unknown competition."""
    return ApiError(404, "competition_not_found", f"没有编号为 {code} 的赛事", f"no competition '{code}'")


def project_not_found(project_id: str) -> ApiError:
    """The 404 for an unknown project (also for one the caller may not see)."""
    return ApiError(404, "project_not_found", f"没有编号为 {project_id} 的项目", f"no project '{project_id}'")


def temporal_unavailable() -> ApiError:
    """The 503 for a Temporal call that could not reach the server; the caller may send the request again."""
    return ApiError(
        503,
        "temporal_unavailable",
        "工作流服务暂不可用，请稍后重试",
        "the workflow service is unavailable; please try again shortly",
    )


# Workflow rejection codes and the HTTP status each one answers with (conflicts with state → 409).
REJECTION_STATUS: dict[str, int] = {
    "wrong_stage": 409,
    "project_closed": 409,
    "already_decided": 409,
    "stage_not_open": 409,
    "scoring_closed": 409,
    "not_assigned": 409,
    "invalid_score": 422,
    "items_required": 422,
    "unknown_decision": 422,
    "decision_not_allowed": 422,
    "reason_required": 422,
    "actor_required": 422,
    "unknown_stage": 422,
    "invalid_calendar": 422,
    "decided_by_review": 409,
    "not_in_review": 409,
    "wrong_task": 409,
    "review_due_passed": 409,
    "organisation_required": 422,
    "unknown_change": 422,
    "already_reviewer": 409,
    "already_confirmed": 409,
    "due_in_past": 409,
    "duplicate_request": 409,
    "not_in_notice": 409,
    "outside_notice_window": 409,
    "unknown_objection": 404,
    "already_ruled": 409,
    "unknown_ruling": 422,
    "not_in_verification": 409,
    "unknown_method": 422,
    "already_reported": 409,
    "verifier_required": 422,
    "visit_out_of_range": 422,
    "pledge_not_requested": 409,
    "method_not_chosen": 409,
    "pledge_missing": 409,
    "remediation_pending": 409,
    "verdicts_incomplete": 422,
    "findings_required": 422,
    "remediation_due_required": 422,
    "remediation_due_out_of_range": 422,
    "no_remediation_due": 409,
    "note_required": 422,
    "already_replaced": 409,
    "already_promoted": 409,
}


def error_body(code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    """The JSON shape of every error."""
    return {"error": {"code": code, "message_zh": zh, "message_en": en, **extra}}


def install_error_handlers(app: FastAPI) -> None:
    """Make every failure, expected or not, answer in the same JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.zh, exc.en, **exc.extra), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"location": list(e.get("loc", ())), "problem": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse(
            error_body(
                "invalid_request",
                "请求内容不符合要求，请检查标出的字段",
                "the request is invalid; see the listed fields",
                details=details,
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return JSONResponse(error_body("not_found", "没有这个地址", "no such path"), status_code=404)
        if exc.status_code == 405:
            return JSONResponse(
                error_body("method_not_allowed", "该地址不支持此方法", "this path does not take that method"),
                status_code=405,
            )
        return JSONResponse(error_body("http_error", "请求失败", str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(ConnectionRefusedError)
    @app.exception_handler(ConnectionResetError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if not database_unavailable(exc):
            return unexpected(request, exc)
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            error_body(
                "database_unavailable",
                "数据库暂时不可用，请稍后重试",
                "the database is unavailable right now; please try again shortly",
            ),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> JSONResponse:
        # A Temporal call outside temporal_call (a calendar read, say) that could not reach the server.
        if not temporal_unreachable(exc):
            return unexpected(request, exc)
        logger.warning("temporal unreachable on %s %s: %s", request.method, request.url.path, exc)
        e = temporal_unavailable()
        return JSONResponse(
            error_body(e.code, e.zh, e.en), status_code=e.status, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected(request, exc)


def unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A 500 in the usual shape, the details in the log only."""
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        error_body("internal_error", "服务器内部错误，请稍后重试", "internal error; please try again later"),
        status_code=500,
    )
