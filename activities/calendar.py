"""CalendarActivities: store a competition's new calendar, signal it to every running project and mail the teams
whose coming stages moved."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError

from activities.contracts import BroadcastResult, CalendarBroadcast, MailRequest
from activities.mail import MailActivities
from db.models import Competition, Problem, Project, Team, Track
from db.outbox import Mail
from domain.calendar import local_text, windows_to_plain
from domain.stages import STAGE_ORDER, Stage, rule_for
from workflows.search_attributes import STAGE

FAN_OUT = 32


class CalendarActivities:
    """Fan-out of calendar changes with bounded concurrency, outside any workflow history."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: Client, mail: MailActivities) -> None:
        self._sessions = sessions
        self._client = client
        self._mail = mail

    @activity.defn
    async def broadcast_calendar(self, broadcast: CalendarBroadcast) -> BroadcastResult:
        """Save the calendar, then signal `apply_calendar` to each running project of the competition and mail each
        team still before or in a moved stage (once per team and revision, whatever the retries)."""
        code = broadcast.competition_code
        async with self._sessions.begin() as session:
            await session.execute(
                update(Competition).where(Competition.code == code).values(calendar=windows_to_plain(broadcast.windows))
            )
            zone = ZoneInfo((await session.get_one(Competition, code)).timezone)
            contacts = await self._contacts(session, code) if broadcast.moved else {}
            milestone = f"calendar_changed/{broadcast.revision}"
            begun = await self._mailed(session, code, milestone) if broadcast.moved else set()
        query = f'WorkflowType="ProjectWorkflow" AND ContestCompetition="{code}" AND ExecutionStatus="Running"'
        last_moved = max((STAGE_ORDER.index(Stage(s)) for s in broadcast.moved), default=-1)
        changes = _changes_text(broadcast, zone)
        gate = asyncio.Semaphore(FAN_OUT)
        signalled = failed = 0

        async def mail(workflow_id: str) -> None:
            context = dict(contacts[workflow_id])
            await self._mail.deliver(
                MailRequest(
                    workflow_id=workflow_id,
                    milestone=milestone,
                    recipient=context.pop("contact_email"),
                    template="calendar_changed",
                    context={**context, **changes},
                )
            )

        async def reach(workflow_id: str, stage: str | None) -> None:
            nonlocal signalled, failed
            async with gate:
                try:
                    await self._client.get_workflow_handle(workflow_id).signal("apply_calendar", broadcast)
                    signalled += 1
                except RPCError as exc:
                    failed += 1
                    activity.logger.warning("calendar not delivered to %s: %s", workflow_id, exc)
                moved_ahead = STAGE_ORDER.index(Stage(stage)) <= last_moved if stage else False
                if workflow_id in contacts and (moved_ahead or workflow_id in begun):
                    await mail(workflow_id)
                activity.heartbeat(signalled + failed)

        reached = []
        tasks = []
        async for w in self._client.list_workflows(query):
            reached.append(w.id)
            tasks.append(asyncio.create_task(reach(w.id, w.typed_search_attributes.get(STAGE))))
        await asyncio.gather(*tasks)
        # An earlier attempt's mails to projects that have since moved on or ended are finished too, never dropped.
        await asyncio.gather(*(mail(w) for w in begun.difference(reached) if w in contacts))
        return BroadcastResult(signalled, failed)

    async def _mailed(self, session: AsyncSession, code: str, milestone: str) -> set[str]:
        """The projects an earlier attempt of this broadcast already began to mail."""
        rows = await session.scalars(
            select(Mail.workflow_id)
            .join(Project, Project.id == Mail.workflow_id)
            .where(Project.competition_code == code, Mail.milestone == milestone)
        )
        return set(rows)

    async def _contacts(self, session: AsyncSession, code: str) -> dict[str, dict[str, str]]:
        """Project id → what a team's mail needs (read here, so addresses stay out of workflow histories)."""
        rows = await session.execute(
            select(Project, Team, Track.name, Problem.title, Competition.name)
            .join(Team, Team.id == Project.team_id)
            .join(Competition, Competition.code == Project.competition_code)
            .join(Track, (Track.competition_code == Project.competition_code) & (Track.code == Project.track_code))
            .join(
                Problem, (Problem.competition_code == Project.competition_code) & (Problem.code == Project.problem_code)
            )
            .where(Project.competition_code == code)
        )
        return {
            project.id: {
                "project_id": project.id,
                "project_name": project.name,
                "team_name": team.name,
                "contact_name": team.contact_name,
                "contact_email": team.contact_email,
                "competition_name": competition_name,
                "track_name": track_name,
                "problem_code": project.problem_code,
                "problem_title": problem_title,
            }
            for project, team, track_name, problem_title, competition_name in rows
        }


def _changes_text(broadcast: CalendarBroadcast, zone: ZoneInfo) -> dict[str, str]:
    """The moved windows as lines in Chinese and in English, and the organiser's reason."""
    windows = {w.stage.value: w for w in broadcast.windows}
    zh, en = [], []
    for stage in broadcast.moved:
        window = windows[stage]
        rule, span = (
            rule_for(Stage(stage)),
            f"{local_text(window.opens_at, zone)} – {local_text(window.closes_at, zone)}",
        )
        zh.append(f"{rule.name_zh}：{span}")
        en.append(f"{rule.name_en}: {span}")
    return {"changes_zh": "\n".join(zh), "changes_en": "\n".join(en), "reason": broadcast.reason, "zone": str(zone)}
