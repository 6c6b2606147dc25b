"""Health: is each part of the stack (database, Temporal, SMTP) up?"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from api.auth import guard
from api.deps import SessionDep, TemporalDep
from api.schemas import HealthOut
from domain.roles import Action

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT = 3.0


async def _up(check: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT)
    except Exception:
        return "down"
    return "up"


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Database, Temporal and SMTP up or down",
    responses={503: {"model": HealthOut}},
    **guard(Action.HEALTH_READ),
)
async def health(request: Request, session: SessionDep, client: TemporalDep) -> JSONResponse:
    """200 when every part is up, 503 naming the ones that are down."""
    database, temporal, smtp = await asyncio.gather(
        _up(session.execute(text("SELECT 1"))),
        _up(client.workflow_service.get_system_info(GetSystemInfoRequest())),
        _up(request.app.state.smtp.check()),
    )
    components = {"database": database, "temporal": temporal, "smtp": smtp}
    ok = all(v == "up" for v in components.values())
    body = HealthOut(status="ok" if ok else "degraded", components=components)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
