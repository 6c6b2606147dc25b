"""ReviewActivities: store accepted scores and replace judges (declared conflict, override, overdue) in the
database the rankings recompute from; CohortActivities: tell every live project its first-round result."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.contracts import (
    AnnouncementReport,
    AnnouncementRequest,
    FinalResult,
    FirstRoundResult,
    ReplacementRequest,
    ReviewerSlot,
    ScoreRow,
)
from db import models
from db.review_queries import FINAL_JUDGE, JUDGE, active_loads, judge_profiles, project_profiles
from db.upsert import insert_if_absent
from domain.assignment import replacement

FAN_OUT = 32


class ReviewActivities:
    """Database writes of the expert review, each idempotent under retries."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def record_score(self, row: ScoreRow) -> bool:
        """Keep one score version and mark the judge's assignment submitted; True when this attempt wrote it."""
        values = asdict(row)
        values["judge_account_id"] = int(values.pop("judge"))
        async with self._sessions.begin() as session:
            written = await insert_if_absent(
                session, models.Score, values, ["project_id", "judge_account_id", "version"]
            )
            await session.execute(
                update(models.Assignment)
                .where(
                    models.Assignment.project_id == row.project_id,
                    models.Assignment.account_id == int(row.judge),
                    models.Assignment.kind == (JUDGE if row.round == "first_round" else FINAL_JUDGE),
                    models.Assignment.state == "assigned",
                )
                .values(state="submitted", changed_at=row.submitted_at)
            )
        return written

    @activity.defn
    async def replace_reviewer(self, request: ReplacementRequest) -> ReviewerSlot | None:
        """Mark the judge replaced and add the reserve: the organiser's pick, else the least-loaded eligible judge
        of the track; None when nobody is free. A retry finds the reserve it already added."""
        async with self._sessions.begin() as session:
            earlier = await session.scalar(
                select(models.Assignment).where(
                    models.Assignment.project_id == request.project_id,
                    models.Assignment.replaces_account_id == int(request.judge),
                    models.Assignment.kind == JUDGE,
                )
            )
            if earlier is not None:
                return await _slot(session, earlier)
            now = datetime.now(UTC)
            await session.execute(
                update(models.Assignment)
                .where(
                    models.Assignment.project_id == request.project_id,
                    models.Assignment.account_id == int(request.judge),
                    models.Assignment.kind == JUDGE,
                )
                .values(state="replaced", reason=f"{request.kind}: {request.reason}", changed_at=now)
            )
            if request.kind == "conflict_declared":
                await _declare_conflict(session, request.competition_code, int(request.judge), request.project_id)
            chosen = request.preferred or await _pick(session, request)
            if chosen is None:
                return None
            row = models.Assignment(
                project_id=request.project_id,
                account_id=int(chosen),
                kind=JUDGE,
                state="assigned",
                due_at=request.due_at,
                replaces_account_id=int(request.judge),
                reason=f"{request.kind}: {request.reason}",
            )
            session.add(row)
            await session.flush()
            return await _slot(session, row)


async def _pick(session: AsyncSession, request: ReplacementRequest) -> str | None:
    # Replacements in one competition take turns (row locks on its judges; SQLite has one writer anyway), so two
    # at once cannot both see the same judge one below the cap.
    await session.execute(
        select(models.Judge.id).where(models.Judge.competition_code == request.competition_code).with_for_update()
    )
    projects = await project_profiles(session, request.competition_code, [request.project_id])
    if not projects:
        raise ApplicationError(f"project {request.project_id} has no units on record", non_retryable=True)
    ever = (
        await session.scalars(
            select(models.Assignment.account_id).where(
                models.Assignment.project_id == request.project_id, models.Assignment.kind == JUDGE
            )
        )
    ).all()
    judges = await judge_profiles(session, request.competition_code)
    loads = await active_loads(session, request.competition_code)
    chosen = replacement(projects[0], [str(a) for a in ever], judges, loads)
    return chosen.id if chosen else None


async def _declare_conflict(session: AsyncSession, code: str, account_id: int, project_id: str) -> None:
    judge = await session.scalar(
        select(models.Judge).where(models.Judge.competition_code == code, models.Judge.account_id == account_id)
    )
    if judge is not None and project_id not in judge.declared_conflicts:
        judge.declared_conflicts = [*judge.declared_conflicts, project_id]


async def _slot(session: AsyncSession, row: models.Assignment) -> ReviewerSlot:
    account = await session.get(models.Account, row.account_id)
    assert account is not None and row.due_at is not None
    due = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC)
    return ReviewerSlot(str(row.account_id), account.email, due)


class CohortActivities:
    """Steps over a whole competition's projects, fanned out with bounded concurrency outside any history."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: Client) -> None:
        self._sessions = sessions
        self._client = client

    @activity.defn
    async def announce_first_round(self, request: AnnouncementRequest) -> AnnouncementReport:
        """Signal each project of the run its result; resumes after the last heartbeat on a retry."""
        async with self._sessions() as session:
            run = await session.get(models.RankingRun, request.run_id)
        if run is None or run.competition_code != request.competition_code:
            raise ApplicationError(f"no ranking run {request.run_id}", non_retryable=True)
        outcomes = run.result["outcomes"]
        details = activity.info().heartbeat_details
        done = int(details[0]) if details else 0
        counts = {"advanced": 0, "not_advanced": 0, "unreachable": 0}
        gate = asyncio.Semaphore(FAN_OUT)

        async def tell(item: dict[str, object]) -> None:
            result = FirstRoundResult(
                request.run_id,
                bool(item["advanced"]),
                str(item["reason"]),
                int(str(item["rank"])) if item.get("rank") is not None else None,
                float(str(item["score"])) if item.get("score") is not None else None,
                bool(item["reserve"]) if item.get("reserve") is not None else None,
            )
            async with gate:
                try:
                    await self._client.get_workflow_handle(str(item["project_id"])).signal("first_round_result", result)
                    counts["advanced" if result.advanced else "not_advanced"] += 1
                except RPCError as exc:
                    counts["unreachable"] += 1
                    activity.logger.warning("result not delivered to %s: %s", item["project_id"], exc)

        for start in range(done, len(outcomes), 500):
            await asyncio.gather(*(tell(item) for item in outcomes[start : start + 500]))
            activity.heartbeat(min(start + 500, len(outcomes)))
        return AnnouncementReport(counts["advanced"], counts["not_advanced"], counts["unreachable"])

    @activity.defn
    async def announce_final(self, request: AnnouncementRequest) -> AnnouncementReport:
        """Signal each finalist of the final ranking run its rank and award (unranked finalists: none); resumes
        after the last heartbeat on a retry."""
        async with self._sessions() as session:
            run = await session.get(models.RankingRun, request.run_id)
        if run is None or run.competition_code != request.competition_code or run.round != "final":
            raise ApplicationError(f"no final ranking run {request.run_id}", non_retryable=True)
        awards = {a["project_id"]: a["level"] for a in run.result["awards"]}
        results = [
            FinalResult(run.id, s["overall_rank"], s["track_rank"], s["combined"], awards.get(s["project_id"]))
            for s in run.result["standings"]
        ]
        targets = [s["project_id"] for s in run.result["standings"]] + sorted(run.result["unranked"])
        results += [FinalResult(run.id, 0, 0, 0.0, None) for _ in run.result["unranked"]]
        details = activity.info().heartbeat_details
        done = int(details[0]) if details else 0
        counts = {"awarded": 0, "not_awarded": 0, "unreachable": 0}
        gate = asyncio.Semaphore(FAN_OUT)

        async def tell(project_id: str, result: FinalResult) -> None:
            async with gate:
                try:
                    await self._client.get_workflow_handle(project_id).signal("final_result", result)
                    counts["awarded" if result.award else "not_awarded"] += 1
                except RPCError as exc:
                    counts["unreachable"] += 1
                    activity.logger.warning("final result not delivered to %s: %s", project_id, exc)

        pairs = list(zip(targets, results, strict=True))
        for start in range(done, len(pairs), 500):
            await asyncio.gather(*(tell(p, r) for p, r in pairs[start : start + 500]))
            activity.heartbeat(min(start + 500, len(pairs)))
        return AnnouncementReport(counts["awarded"], counts["not_awarded"], counts["unreachable"])
