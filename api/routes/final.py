"""The final review: the roadshow schedule per track (order drawn by a recorded seed, slots from each track's
session start), mailed to each finalist by its workflow; and the final panel, assigned per track with conflicts
checked, who score through `POST /projects/{id}/scores` with the first round's validators and reminders."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import delete, func, select

from activities.contracts import ReviewerSlot
from api.audit_trail import audit
from api.auth import PrincipalDep, guard
from api.deps import SessionDep, TemporalDep
from api.errors import ApiError, competition_not_found
from api.finalists import live_finalists
from api.routes.judges import tell_judges
from api.schemas import Strict
from db import models
from db.final_models import RoadshowSlotRow
from db.review_queries import FINAL_JUDGE, judge_profiles, project_profiles
from domain.assignment import conflict
from domain.calendar import window_of, windows_from_plain
from domain.final import FinalRuleError, parse_final, plan_roadshow
from domain.review import parse_review
from domain.roles import Action
from domain.stages import Stage
from workflows.contracts import ReviewAssignment, ReviewTerms
from workflows.project import ProjectWorkflow
from workflows.stage_contracts import RoadshowSlot

router = APIRouter(prefix="/competitions/{code}/final", tags=["final review"])
Room = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SessionIn(Strict):
    """When a track's roadshow starts, and where."""

    starts_at: datetime
    room: Room


class RoadshowIn(Strict):
    """A session per track with finalists; the seed draws the order (random, and recorded, when left out)."""

    sessions: dict[str, SessionIn] = Field(max_length=50)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class SlotOut(BaseModel):
    """One finalist's slot."""

    project_id: str
    track: str
    order: int
    starts_at: datetime
    qa_at: datetime
    ends_at: datetime
    room: str
    version: int


class PanelIn(Strict):
    """The judges (account ids) of each track's final panel, and when their scores are due (default: the close of
    the final review)."""

    panels: dict[str, list[int]] = Field(max_length=50)
    due_at: datetime | None = None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _competition(session: SessionDep, code: str) -> models.Competition:
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    return competition


def _slot_out(row: RoadshowSlotRow) -> SlotOut:
    return SlotOut(
        project_id=row.project_id,
        track=row.track_code,
        order=row.position,
        starts_at=_aware(row.starts_at),
        qa_at=_aware(row.qa_at),
        ends_at=_aware(row.ends_at),
        room=row.room,
        version=row.version,
    )


@router.post(
    "/roadshow",
    response_model=list[SlotOut],
    status_code=201,
    summary="Plan (or re-plan, until the final opens) the roadshow and mail each finalist its slot",
    **guard(Action.FINAL_SCHEDULE),
)
async def plan(
    code: str, body: RoadshowIn, request: Request, session: SessionDep, principal: PrincipalDep, client: TemporalDep
) -> list[SlotOut]:
    """Every live finalist gets a slot in its track's session; a slot that would end after the final closes, or a
    track without a session, is refused (422 `invalid_roadshow`)."""
    competition = await _competition(session, code)
    window = window_of(windows_from_plain(competition.calendar), Stage.FINAL_REVIEW)
    if datetime.now(UTC) >= window.opens_at:
        raise ApiError(
            409, "final_started", "决赛已开始，不能再调整路演安排", "the final has begun; the roadshow is fixed"
        )
    policy = parse_final(competition.catalog.get("final"))
    finalists = await live_finalists(session, client, code)
    by_track: dict[str, list[str]] = {}
    for project_id, track in finalists.items():
        by_track.setdefault(track, []).append(project_id)
    seed = body.seed if body.seed is not None else secrets.randbelow(2**31)
    sessions = {t: (_aware(s.starts_at), s.room) for t, s in body.sessions.items()}
    try:
        slots = plan_roadshow(by_track, sessions, policy, seed, window.closes_at)
    except FinalRuleError as exc:
        raise ApiError(
            422, "invalid_roadshow", f"路演安排无效：{exc}", f"the roadshow plan is invalid: {exc}"
        ) from None
    previous = await session.scalar(
        select(func.max(RoadshowSlotRow.version)).where(RoadshowSlotRow.competition_code == code)
    )
    version = (previous or 0) + 1
    await session.execute(delete(RoadshowSlotRow).where(RoadshowSlotRow.competition_code == code))
    rows = [
        RoadshowSlotRow(
            project_id=s.project_id,
            competition_code=code,
            track_code=s.track,
            position=s.order,
            starts_at=s.starts_at,
            qa_at=s.qa_at,
            ends_at=s.ends_at,
            room=s.room,
            version=version,
            seed=seed,
            planned_by=principal.username,
        )
        for s in slots
    ]
    session.add_all(rows)
    await audit(session, request, "roadshow.planned", "competition", code, version=version, seed=seed, slots=len(rows))
    await session.commit()
    for s in slots:
        slot = RoadshowSlot(
            s.project_id,
            s.track,
            s.order,
            s.starts_at,
            s.qa_at,
            s.ends_at,
            s.room,
            policy.presentation_minutes,
            policy.qa_minutes,
            version,
        )
        await client.get_workflow_handle_for(ProjectWorkflow.run, s.project_id).signal(
            ProjectWorkflow.roadshow_scheduled, slot
        )
    return [_slot_out(r) for r in rows]


@router.get(
    "/roadshow",
    response_model=list[SlotOut],
    summary="The roadshow schedule as last planned",
    **guard(Action.FINAL_SCHEDULE),
)
async def schedule(code: str, session: SessionDep) -> list[SlotOut]:
    """By track, then order."""
    await _competition(session, code)
    rows = await session.scalars(
        select(RoadshowSlotRow)
        .where(RoadshowSlotRow.competition_code == code)
        .order_by(RoadshowSlotRow.track_code, RoadshowSlotRow.position)
    )
    return [_slot_out(r) for r in rows.all()]


@router.post(
    "/panel",
    response_model=dict[str, Any],
    summary="Assign each track's final panel to its scheduled finalists (conflicts skipped and reported)",
    **guard(Action.FINAL_SCHEDULE),
)
async def panel(code: str, body: PanelIn, request: Request, session: SessionDep, client: TemporalDep) -> dict[str, Any]:
    """A judge with a conflict (same or related unit, declared, a representative) does not score that project."""
    competition = await _competition(session, code)
    window = window_of(windows_from_plain(competition.calendar), Stage.FINAL_REVIEW)
    due = _aware(body.due_at) if body.due_at else window.closes_at
    if not datetime.now(UTC) < due <= window.closes_at:
        raise ApiError(
            422, "due_out_of_range", "截止时间须在现在之后、决赛结束之前", "due must be after now, by the close"
        )
    slots = (await session.scalars(select(RoadshowSlotRow).where(RoadshowSlotRow.competition_code == code))).all()
    if not slots:
        raise ApiError(409, "roadshow_not_planned", "请先安排路演", "plan the roadshow first")
    judges = {j.id: j for j in await judge_profiles(session, code)}
    wanted = {str(a) for ids in body.panels.values() for a in ids}
    unknown = sorted(wanted - set(judges), key=int)
    if unknown:
        raise ApiError(
            422,
            "unknown_judge",
            f"以下账号不是本赛事的评审专家：{', '.join(unknown)}",
            f"not judges of this competition: {', '.join(unknown)}",
        )
    projects = {p.id: p for p in await project_profiles(session, code, [s.project_id for s in slots])}
    emails = dict((await session.execute(select(models.Account.id, models.Account.email))).all())
    existing = set(
        (
            await session.execute(
                select(models.Assignment.project_id, models.Assignment.account_id).where(
                    models.Assignment.kind == FINAL_JUDGE, models.Assignment.project_id.in_(list(projects))
                )
            )
        ).all()
    )
    added: dict[str, list[ReviewerSlot]] = {}
    skipped: list[dict[str, str]] = []
    for slot in slots:
        for account_id in body.panels.get(slot.track_code, []):
            reason = conflict(judges[str(account_id)], projects[slot.project_id])
            if reason is not None:
                skipped.append({"project_id": slot.project_id, "judge": str(account_id), "reason": reason})
                continue
            if (slot.project_id, account_id) in existing:
                continue
            session.add(
                models.Assignment(project_id=slot.project_id, account_id=account_id, kind=FINAL_JUDGE, due_at=due)
            )
            added.setdefault(slot.project_id, []).append(ReviewerSlot(str(account_id), emails[account_id], due))
    assigned = sum(len(s) for s in added.values())
    await audit(session, request, "final_panel.assigned", "competition", code, assigned=assigned, skipped=len(skipped))
    await session.commit()
    policy, scale = parse_review(competition.catalog.get("review")), competition.time_scale
    terms = ReviewTerms(
        policy.reminder_days * 86400 * scale,
        policy.overdue_grace_days * 86400 * scale,
        policy.reassigned_due_days * 86400 * scale,
        policy.min_valid_scores,
        policy.alert_email,
    )
    await tell_judges(client, {p: ReviewAssignment(s, terms) for p, s in added.items()})
    return {"assigned": assigned, "projects": len(added), "conflicts": skipped}
