"""After the awards: the organisation awards (组织奖, at most the catalog's number, to units or cities), the
ceremony's time and place with every awarded team invited, the printable certificate of each award under the
competition's standard name, and the national recommendation list for the organisers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import Field, StringConstraints
from sqlalchemy import delete, select

from api.audit_trail import audit
from api.auth import PrincipalDep, authorize_project, guard
from api.deps import SessionDep, TemporalDep
from api.errors import ApiError, competition_not_found
from api.exports import ended, national_recommendations, to_csv
from api.schemas import Strict
from db import models
from db.final_models import Ceremony, OrganisationAward
from db.review_queries import confirmed_run
from domain.awards import LEVEL_NAMES, LEVEL_NAMES_EN, check_organisation_awards
from domain.calendar import window_of, windows_from_plain
from domain.catalog import parse_catalog
from domain.roles import Action
from domain.stages import Stage
from workflows.project import ProjectWorkflow
from workflows.stage_contracts import CeremonyInvitation

router = APIRouter(tags=["ceremony"])
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)


class OrganisationAwardItem(Strict):
    """A unit or a city and the citation."""

    recipient: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
    kind: Literal["unit", "city"]
    citation: Text


class OrganisationAwardsIn(Strict):
    """The whole list (it replaces the one before)."""

    awards: list[OrganisationAwardItem] = Field(max_length=20)


class CeremonyIn(Strict):
    """When and where the ceremony is held."""

    starts_at: datetime
    venue: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


async def _competition(session: SessionDep, code: str) -> models.Competition:
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    return competition


async def _confirmed_final(session: SessionDep, code: str) -> models.RankingRun:
    run = await confirmed_run(session, code, "final")
    if run is None:
        raise ApiError(409, "awards_not_confirmed", "奖项尚未确认", "the awards are not confirmed yet")
    return run


@router.put(
    "/competitions/{code}/organisation-awards",
    response_model=list[dict[str, str]],
    summary="Grant the organisation awards (the list replaces the one before)",
    **guard(Action.ORGANISATION_AWARDS),
)
async def grant_organisation_awards(
    code: str, body: OrganisationAwardsIn, request: Request, session: SessionDep, principal: PrincipalDep
) -> list[dict[str, str]]:
    """Refused with every problem named: a blank or repeated recipient, more than the catalog allows (5)."""
    competition = await _competition(session, code)
    limit = parse_catalog(competition.catalog).quotas.organisation_awards
    problems = check_organisation_awards([a.recipient for a in body.awards], limit)
    if problems:
        raise ApiError(
            422,
            "invalid_organisation_awards",
            f"组织奖名单有误（最多 {limit} 个，不得空白或重复）",
            f"the organisation awards are invalid (at most {limit}, none blank or repeated)",
            problems=problems,
        )
    await session.execute(delete(OrganisationAward).where(OrganisationAward.competition_code == code))
    for award in body.awards:
        session.add(
            OrganisationAward(
                competition_code=code,
                recipient=award.recipient,
                kind=award.kind,
                citation=award.citation,
                granted_by=principal.username,
                granted_at=datetime.now(UTC),
            )
        )
    await audit(session, request, "organisation_awards.granted", "competition", code, count=len(body.awards))
    await session.commit()
    return [a.model_dump() for a in body.awards]


@router.get(
    "/competitions/{code}/organisation-awards",
    response_model=list[dict[str, str]],
    summary="The organisation awards",
    **guard(Action.ORGANISATION_AWARDS),
)
async def organisation_awards(code: str, session: SessionDep) -> list[dict[str, str]]:
    """In the order granted."""
    await _competition(session, code)
    rows = await session.scalars(
        select(OrganisationAward).where(OrganisationAward.competition_code == code).order_by(OrganisationAward.id)
    )
    return [{"recipient": r.recipient, "kind": r.kind, "citation": r.citation} for r in rows.all()]


@router.post(
    "/competitions/{code}/ceremony",
    response_model=dict[str, Any],
    summary="Set the ceremony's time and place and invite every awarded team",
    **guard(Action.CEREMONY_PLAN),
)
async def plan_ceremony(
    code: str, body: CeremonyIn, request: Request, session: SessionDep, principal: PrincipalDep, client: TemporalDep
) -> dict[str, Any]:
    """The time must fall on the ceremony's day; a change is a new version and every team is invited again. A
    project disqualified since the awards is not invited."""
    competition = await _competition(session, code)
    run = await _confirmed_final(session, code)
    window = window_of(windows_from_plain(competition.calendar), Stage.CEREMONY)
    starts = body.starts_at if body.starts_at.tzinfo else body.starts_at.replace(tzinfo=UTC)
    if not window.opens_at <= starts < window.closes_at:
        raise ApiError(
            422, "ceremony_out_of_window", "颁奖仪式时间须在日程规定的当天", "the ceremony must be held on its day"
        )
    current = await session.get(Ceremony, code)
    version = current.version + 1 if current else 1
    if current is None:
        session.add(
            Ceremony(
                competition_code=code,
                starts_at=starts,
                venue=body.venue,
                version=version,
                planned_by=principal.username,
            )
        )
    else:
        current.starts_at, current.venue, current.version = starts, body.venue, version
        current.planned_by, current.planned_at = principal.username, datetime.now(UTC)
    awarded = [a["project_id"] for a in run.result["awards"]]
    revoked = await ended(session, awarded)
    await audit(session, request, "ceremony.planned", "competition", code, version=version, venue=body.venue)
    await session.commit()
    base = str(request.base_url)
    invited = [p for p in awarded if p not in revoked]
    for project_id in invited:
        invitation = CeremonyInvitation(starts, body.venue, version, f"{base}projects/{project_id}/certificate")
        await client.get_workflow_handle_for(ProjectWorkflow.run, project_id).signal(
            ProjectWorkflow.ceremony_invited, invitation
        )
    return {"version": version, "invited": len(invited), "not_invited": sorted(revoked)}


@router.get(
    "/projects/{project_id}/certificate",
    response_class=HTMLResponse,
    summary="The printable certificate of the project's award",
    **guard(Action.CERTIFICATE_READ),
)
async def certificate(project_id: str, session: SessionDep, principal: PrincipalDep) -> HTMLResponse:
    """Issued once the final public notice has passed; never for an award revoked since (409 otherwise)."""
    project = await authorize_project(session, principal, Action.CERTIFICATE_READ, project_id)
    competition = await _competition(session, project.competition_code)
    run = await _confirmed_final(session, project.competition_code)
    level = next((a["level"] for a in run.result["awards"] if a["project_id"] == project.id), None)
    passed = await session.scalar(
        select(models.ProjectEvent.id).where(
            models.ProjectEvent.project_id == project.id,
            models.ProjectEvent.kind == "stage_entered",
            models.ProjectEvent.stage.in_((Stage.AWARD.value, Stage.CEREMONY.value)),
        )
    )
    if level is None or project.id in await ended(session, [project.id]) or passed is None:
        raise ApiError(
            409,
            "certificate_not_issued",
            "该项目没有可颁发证书的奖项（未获奖、奖项已撤销或决赛公示尚未结束）",
            "no certificate: no award, the award was revoked, or the final public notice has not ended",
        )
    units = (
        await session.scalars(
            select(models.Unit.name)
            .join(models.TeamUnit, models.TeamUnit.unit_id == models.Unit.id)
            .where(models.TeamUnit.team_id == project.team_id)
            .order_by(models.TeamUnit.role.desc(), models.Unit.id)
        )
    ).all()
    catalog = parse_catalog(competition.catalog)
    ceremony = await session.get(Ceremony, competition.code)
    issued = (ceremony.starts_at if ceremony else datetime.now(UTC)).astimezone(timezone(timedelta(hours=8)))
    track = next((t.name for t in catalog.tracks if t.code == project.track_code), project.track_code)
    html = TEMPLATES.get_template("certificate.html").render(
        official_name=catalog.official_name,
        organiser=catalog.organiser,
        project_name=project.name,
        units="、".join(units),
        track_name=track,
        award_name=LEVEL_NAMES[level],
        award_name_en=LEVEL_NAMES_EN[level],
        number=f"{competition.code.upper()}-{project.number:05d}",
        issued_on=f"{issued:%Y年%m月%d日}",
    )
    return HTMLResponse(html)


@router.get(
    "/competitions/{code}/national-recommendations.csv",
    response_class=Response,
    summary="The national recommendation list as CSV (UTF-8 with BOM, opens in Excel)",
    **guard(Action.RANKING_PREVIEW),
)
async def national_list(code: str, session: SessionDep, client: TemporalDep) -> Response:
    """In rank order, with the lead unit, whether an SME, whether brought in by the SME rule, and its state (the
    same table as `/exports/national-recommendations`)."""
    table = await national_recommendations(session, client, code)
    return Response(
        to_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{code}-national-recommendations.csv"'},
    )
