"""The public pages, server-rendered, Chinese first and fit for a phone: the competition's home with its calendar,
tracks and problems; each public notice with the real-name objection form (a refused objection comes back as the
page with every problem named and the fields kept, an accepted one with its number); and the results."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select

from api.auth import guard
from api.deps import CipherDep, SessionDep, SettingsDep, StoreDep, TemporalDep
from api.errors import ApiError, competition_not_found
from api.exports import ended
from api.routes.notices import NOTICES, ObjectionForm, ObjectionReceipt, read_notice, take_objection
from api.views import utc_offset_minutes
from db import models
from db.final_models import OrganisationAward
from db.review_queries import confirmed_run
from domain.awards import LEVEL_NAMES
from domain.calendar import windows_from_plain
from domain.catalog import Catalog, CatalogError, parse_catalog
from domain.roles import Action
from domain.stages import Stage, rule_for
from workflows import presentation

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)
RELATIONS = (
    ("competitor", "参赛者 competitor"),
    ("employee", "员工 employee"),
    ("partner", "合作方 partner"),
    ("rights_holder", "权利人 rights holder"),
    ("public", "社会公众 public"),
)
router = APIRouter(tags=["public pages"])
EMPTY_FORM = ObjectionForm("", "", "", "", "", "competitor", "")


async def _competition(session: SessionDep, code: str) -> tuple[models.Competition, Catalog | None]:
    """The competition and its catalog (None for one stored without its full catalog, as tests seed them)."""
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    try:
        return competition, parse_catalog(competition.catalog)
    except CatalogError:
        return competition, None


def _render(
    template: str, request: Request, competition: models.Competition, catalog: Catalog | None, **context: Any
) -> str:
    """A page with the shared header: the standard name and the links every page carries."""
    code = competition.code
    return TEMPLATES.get_template(template).render(
        official_name=catalog.official_name if catalog else competition.name,
        home_url=str(request.url_for("home_page", code=code)),
        results_url=str(request.url_for("results_page", code=code)),
        **context,
    )


@router.get(
    "/competitions/{code}/page",
    response_class=HTMLResponse,
    summary="The competition's public home: calendar, notices, tracks and problems",
    **guard(Action.COMPETITION_READ),
)
async def home_page(code: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Dates in the competition's own time, as the notice prints them."""
    competition, catalog = await _competition(session, code)
    offset = _offset(competition)
    calendar = [
        {
            "name_zh": rule_for(w.stage).name_zh,
            "name_en": rule_for(w.stage).name_en,
            "opens": presentation.display_time(w.opens_at, offset),
            "closes": presentation.display_time(w.closes_at, offset),
        }
        for w in windows_from_plain(competition.calendar)
    ]
    tracks = []
    if catalog is not None:
        problems: dict[str, list[Any]] = defaultdict(list)
        for problem in catalog.problems:
            problems[problem.track].append(problem)
        tracks = [
            {"code": t.code, "number": t.number, "name": t.name, "problems": problems[t.code]} for t in catalog.tracks
        ]
    notices = [
        {
            "name_zh": rule_for(Stage(s)).name_zh,
            "name_en": rule_for(Stage(s)).name_en,
            "url": str(request.url_for("notice_page", code=code, stage=s)),
        }
        for s in (Stage.FIRST_PUBLIC_NOTICE.value, Stage.FINAL_PUBLIC_NOTICE.value)
    ]
    html = _render(
        "public/home.html",
        request,
        competition,
        catalog,
        name_en=catalog.name if catalog else competition.name,
        zone=competition.timezone,
        calendar=calendar,
        notices=notices,
        tracks=tracks,
        problem_count=len(catalog.problems) if catalog else 0,
    )
    return HTMLResponse(html)


def _offset(competition: models.Competition) -> int:
    """The competition's UTC offset in minutes now."""
    return utc_offset_minutes(competition.timezone, datetime.now(UTC))


async def _notice_html(
    code: str,
    stage: str,
    request: Request,
    session: SessionDep,
    values: ObjectionForm = EMPTY_FORM,
    errors: list[dict[str, str]] | None = None,
    receipt: ObjectionReceipt | None = None,
) -> str:
    notice = await read_notice(code, stage, session)
    competition, catalog = await _competition(session, code)
    rule, offset = rule_for(Stage(stage)), _offset(competition)
    return _render(
        "public/notice.html",
        request,
        competition,
        catalog,
        notice_name=rule.name_zh,
        notice_name_en=rule.name_en,
        opens=presentation.display_time(notice.opens_at, offset),
        closes=presentation.display_time(notice.closes_at, offset),
        projects=notice.projects,
        tracks={t.code: t.name for t in catalog.tracks} if catalog else {},
        levels=LEVEL_NAMES,
        with_awards=stage == Stage.FINAL_PUBLIC_NOTICE.value,
        form_url=str(request.url_for("notice_page", code=code, stage=stage)),
        relations=RELATIONS,
        values=values,
        errors=errors or [],
        bad={e.get("field") for e in errors or []},
        receipt=receipt,
    )


@router.get(
    "/competitions/{code}/notices/{stage}/page",
    response_class=HTMLResponse,
    summary="A public notice as a page, with the objection form",
    **guard(Action.NOTICE_READ),
)
async def notice_page(code: str, stage: str, request: Request, session: SessionDep) -> HTMLResponse:
    """What the JSON listing shows (and, on the final notice, each winner's award)."""
    return HTMLResponse(await _notice_html(code, stage, request, session))


@router.post(
    "/competitions/{code}/notices/{stage}/page",
    response_class=HTMLResponse,
    summary="The objection form's target: the notice page again, with the receipt or every problem named",
    **guard(Action.OBJECTION_FILE),
)
async def submit_objection_form(
    code: str,
    stage: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    cipher: CipherDep,
    client: TemporalDep,
    project_id: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    id_number: Annotated[str, Form(max_length=18)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    relation: Annotated[str, Form(max_length=32)] = "",
    grounds: Annotated[str, Form(max_length=5000)] = "",
    evidence: Annotated[list[UploadFile] | None, File()] = None,
) -> HTMLResponse:
    """The same checks as the JSON endpoint; the ID number is never echoed back into the page."""
    if stage not in NOTICES:
        raise ApiError(404, "notice_not_found", f"没有「{stage}」公示", f"no notice '{stage}'")
    form = ObjectionForm(project_id, name, id_number, phone, email, relation, grounds)
    chosen = [f for f in evidence or [] if f.filename]  # a browser sends an empty part when no file is chosen
    try:
        receipt = await take_objection(code, stage, request, session, settings, store, cipher, client, form, chosen)
    except ApiError as refused:
        problems = refused.extra.get("problems") or [
            {"code": refused.code, "field": "", "zh": refused.zh, "en": refused.en}
        ]
        await session.commit()  # a refusal by the workflow marked the stored objection `refused`: keep that
        kept = ObjectionForm(project_id, name, "", phone, email, relation, grounds)
        html = await _notice_html(code, stage, request, session, kept, problems)
        return HTMLResponse(html, status_code=refused.status)
    html = await _notice_html(code, stage, request, session, receipt=receipt)
    return HTMLResponse(html, status_code=201)


@router.get(
    "/competitions/{code}/results/page",
    response_class=HTMLResponse,
    summary="The awards by track and the organisation awards, once confirmed",
    **guard(Action.NOTICE_READ),
)
async def results_page(code: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Nothing before the final ranking is confirmed; a revoked award stays listed, marked."""
    competition, catalog = await _competition(session, code)
    run = await confirmed_run(session, code, "final")
    awards: list[tuple[str, list[dict[str, Any]]]] = []
    organisation: list[str] = []
    if run is not None:
        listed = run.result["awards"]
        revoked = await ended(session, [a["project_id"] for a in listed])
        rows = await session.execute(
            select(models.Project.id, models.Project.name, models.Unit.name)
            .join(models.Team, models.Team.id == models.Project.team_id)
            .join(models.Unit, models.Unit.id == models.Team.lead_unit_id)
            .where(models.Project.competition_code == code)
        )
        info = {project_id: (name, unit) for project_id, name, unit in rows.all()}
        names = {t.code: t.name for t in catalog.tracks} if catalog else {}
        per_track: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for a in listed:
            name, unit = info.get(a["project_id"], (a["project_id"], ""))
            per_track[a["track"]].append(
                {
                    "level": LEVEL_NAMES[a["level"]],
                    "project_name": name,
                    "unit": unit,
                    "revoked": a["project_id"] in revoked,
                }
            )
        awards = [(names.get(t, t), rows) for t, rows in per_track.items()]
        organisation = list(
            await session.scalars(
                select(OrganisationAward.recipient)
                .where(OrganisationAward.competition_code == code)
                .order_by(OrganisationAward.id)
            )
        )
    html = _render(
        "public/results.html", request, competition, catalog, awards=awards, organisation_awards=organisation
    )
    return HTMLResponse(html)
