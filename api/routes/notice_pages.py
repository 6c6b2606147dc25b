"""The public notice as a page (七、公示): the same listing as the JSON, Chinese first, readable on a phone, with
the real-name objection form that posts to the objection endpoint."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.auth import guard
from api.deps import SessionDep
from api.routes.notices import read_notice
from db import models
from domain.awards import LEVEL_NAMES
from domain.catalog import CatalogError, parse_catalog
from domain.roles import Action
from domain.stages import Stage, rule_for
from workflows import presentation

router = APIRouter(tags=["notices"])
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)


@router.get(
    "/competitions/{code}/notices/{stage}/page",
    response_class=HTMLResponse,
    summary="A public notice as a page, with the objection form",
    **guard(Action.NOTICE_READ),
)
async def notice_page(code: str, stage: str, request: Request, session: SessionDep) -> HTMLResponse:
    """What the JSON listing shows (and, on the final notice, each winner's award)."""
    notice = await read_notice(code, stage, session)
    competition = await session.get(models.Competition, code)
    assert competition is not None  # read_notice answered 404 otherwise
    try:
        catalog = parse_catalog(competition.catalog)
        official_name, tracks = catalog.official_name, {t.code: t.name for t in catalog.tracks}
    except CatalogError:  # a competition stored without its full catalog (seeded in tests) shows its codes
        official_name, tracks = competition.name, {}
    rule = rule_for(Stage(stage))
    html = TEMPLATES.get_template("notice.html").render(
        official_name=official_name,
        notice_name=rule.name_zh,
        notice_name_en=rule.name_en,
        opens=presentation.display_time(notice.opens_at, 480),
        closes=presentation.display_time(notice.closes_at, 480),
        projects=notice.projects,
        tracks=tracks,
        levels=LEVEL_NAMES,
        with_awards=stage == Stage.FINAL_PUBLIC_NOTICE.value,
        objection_url=str(request.url_for("file_objection", code=code, stage=stage)),
    )
    return HTMLResponse(html)
