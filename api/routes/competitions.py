"""Competitions: create one from a catalog (or a rehearsal copy), read it, move a stage."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from fastapi import APIRouter, Request, status
from sqlalchemy import func, select
from temporalio.client import WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.audit_trail import audit
from api.auth import PrincipalDep, guard
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError, competition_not_found
from api.schemas import CompetitionCreate, CompetitionOut, StageMoveIn
from api.temporal_errors import temporal_call
from api.views import utc_offset_minutes, windows_out
from catalogs import bundled_catalogs
from db import models
from domain.calendar import build_calendar as build_windows
from domain.calendar import compress, windows_to_plain
from domain.catalog import Catalog, CatalogError, parse_catalog
from domain.roles import Action
from workflows import search_attributes as sa
from workflows.competition import CompetitionWorkflow, competition_workflow_id
from workflows.contracts import CalendarView, CompetitionStart, StageMove

router = APIRouter(prefix="/competitions", tags=["competitions"])


def _catalog_data(body: CompetitionCreate) -> Any:
    if (body.catalog is None) == (body.catalog_text is None):
        raise ApiError(
            422,
            "catalog_required",
            "请提供内置赛事目录名称或目录文件内容（二选一）",
            "give either a bundled catalog name or a catalog's text, not both",
        )
    if body.catalog is not None:
        path = bundled_catalogs().get(body.catalog)
        if path is None:
            names = ", ".join(bundled_catalogs())
            raise ApiError(
                404,
                "catalog_not_found",
                f"没有名为 {body.catalog} 的内置目录（可选：{names}）",
                f"no bundled catalog '{body.catalog}' (available: {names})",
            )
        text = path.read_text(encoding="utf-8")
    else:
        text = body.catalog_text or ""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ApiError(
            422, "invalid_catalog", "赛事目录不是有效的 YAML/JSON", f"the catalog is not valid YAML: {exc}"
        ) from exc


def _parse(data: Any, default_timezone: str) -> Catalog:
    if isinstance(data, dict):
        data.setdefault("timezone", default_timezone)
    try:
        catalog = parse_catalog(data)
        ZoneInfo(catalog.timezone)
    except CatalogError as exc:
        raise ApiError(422, "invalid_catalog", f"赛事目录有误：{exc}", f"invalid catalog: {exc}") from exc
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ApiError(422, "invalid_catalog", "赛事目录的时区无效", f"invalid catalog time zone: {exc}") from exc
    return catalog


def competition_handle(client: TemporalDep, code: str) -> WorkflowHandle[CompetitionWorkflow, CalendarView]:
    """The typed handle of a competition's workflow."""
    return client.get_workflow_handle_for(CompetitionWorkflow.run, competition_workflow_id(code))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CompetitionOut,
    summary="Create a competition from a catalog",
    **guard(Action.COMPETITION_CREATE),
)
async def create_competition(
    body: CompetitionCreate, request: Request, session: SessionDep, client: TemporalDep, settings: SettingsDep
) -> CompetitionOut:
    """Load and validate the catalog, store it, and start the competition's workflow."""
    data = _catalog_data(body)
    catalog = _parse(data, settings.timezone)
    code = body.code or catalog.code
    windows = build_windows(catalog.calendar, ZoneInfo(catalog.timezone))
    now = datetime.now(UTC)
    time_scale = 1.0
    if body.rehearsal is not None:
        season = timedelta(minutes=body.rehearsal.season_minutes)
        time_scale = season / (windows[-1].closes_at - windows[0].opens_at)
        windows = compress(windows, now, season)
    if await session.get(models.Competition, code) is not None:
        raise ApiError(409, "competition_exists", f"赛事 {code} 已存在", f"competition '{code}' already exists")
    session.add(
        models.Competition(
            code=code,
            name=catalog.name,
            timezone=catalog.timezone,
            rehearsal=body.rehearsal is not None,
            edition=catalog.edition,
            time_scale=time_scale,
            catalog=json.loads(json.dumps(data, default=str, ensure_ascii=False)),
            calendar=windows_to_plain(windows),
        )
    )
    await session.flush()
    session.add_all(
        [
            models.Track(
                competition_code=code,
                code=t.code,
                number=t.number,
                name=t.name,
                guiding_units=list(t.guiding_units),
            )
            for t in catalog.tracks
        ]
    )
    session.add_all(
        [
            models.Problem(
                competition_code=code,
                code=p.code,
                track_code=p.track,
                group_code=p.group,
                number=p.number,
                title=p.title,
                text=p.text,
            )
            for p in catalog.problems
        ]
    )
    await session.flush()
    start = CompetitionStart(
        code, catalog.name, windows, body.rehearsal is not None, utc_offset_minutes(catalog.timezone, now)
    )
    try:
        async with temporal_call(competition_not_found(code)):
            await client.start_workflow(
                CompetitionWorkflow.run,
                start,
                id=competition_workflow_id(code),
                task_queue=settings.temporal_task_queue,
                search_attributes=TypedSearchAttributes([SearchAttributePair(sa.COMPETITION, code)]),
                static_summary=f"{catalog.name}" + (" (rehearsal 演练)" if body.rehearsal else ""),
                static_details=f"赛事 Competition `{code}`: {len(catalog.tracks)} tracks, "
                f"{len(catalog.problems)} problems, {catalog.quotas.finalists} finalists",
            )
    except WorkflowAlreadyStartedError as exc:
        raise ApiError(
            409,
            "competition_exists",
            f"赛事 {code} 的工作流已存在",
            f"competition '{code}' already has a workflow",
        ) from exc
    await audit(
        session,
        request,
        "competition.created",
        "competition",
        code,
        catalog=catalog.code,
        rehearsal=body.rehearsal is not None,
    )
    await session.commit()
    return CompetitionOut(
        code=code,
        name=catalog.name,
        timezone=catalog.timezone,
        rehearsal=body.rehearsal is not None,
        tracks=len(catalog.tracks),
        problems=len(catalog.problems),
        calendar_revision=0,
        calendar=windows_out(windows, catalog.timezone),
    )


@router.get("/{code}", response_model=CompetitionOut, summary="Read a competition", **guard(Action.COMPETITION_READ))
async def read_competition(code: str, session: SessionDep, client: TemporalDep) -> CompetitionOut:
    """The competition with its current calendar, read from its workflow."""
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    async with temporal_call(competition_not_found(code)):
        view = await competition_handle(client, code).query(CompetitionWorkflow.calendar)
    tracks = await session.scalar(select(func.count()).where(models.Track.competition_code == code))
    problems = await session.scalar(select(func.count()).where(models.Problem.competition_code == code))
    return CompetitionOut(
        code=code,
        name=competition.name,
        timezone=competition.timezone,
        rehearsal=competition.rehearsal,
        tracks=tracks or 0,
        problems=problems or 0,
        calendar_revision=view.revision,
        calendar=windows_out(view.windows, competition.timezone),
    )


@router.put(
    "/{code}/stages/{stage}",
    response_model=CompetitionOut,
    summary="Move one stage's window; every project's timers follow",
    **guard(Action.COMPETITION_SCHEDULE),
)
async def move_stage(
    code: str,
    stage: str,
    body: StageMoveIn,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    principal: PrincipalDep,
) -> CompetitionOut:
    """Send the move to the competition workflow, which validates it and tells every project."""
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    if body.opens_at.tzinfo is None or body.closes_at.tzinfo is None:
        raise ApiError(
            422,
            "timezone_required",
            "时间必须带时区（例如 +08:00）",
            "times must carry a UTC offset (e.g. +08:00)",
        )
    move = StageMove(
        stage,
        body.opens_at.astimezone(UTC),
        body.closes_at.astimezone(UTC),
        principal.username,
        body.reason,
        body.shift_later,
    )
    async with temporal_call(competition_not_found(code)):
        view = await competition_handle(client, code).execute_update(CompetitionWorkflow.move_stage, move)
    await audit(
        session,
        request,
        "competition.stage_moved",
        "competition",
        code,
        stage=stage,
        opens_at=move.opens_at.isoformat(),
        closes_at=move.closes_at.isoformat(),
        shift_later=move.shift_later,
        reason=move.reason,
        revision=view.revision,
    )
    await session.commit()
    return await read_competition(code, session, client)
