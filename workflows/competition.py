"""CompetitionWorkflow: owns a sub-competition's calendar and spreads every change to its projects."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.calendar import CalendarActivities
    from activities.contracts import AnnouncementReport, AnnouncementRequest, CalendarBroadcast
    from activities.review import CohortActivities
    from domain.calendar import CalendarError, StageWindow, move_window
    from domain.stages import STAGE_ORDER, Stage
    from workflows import presentation
    from workflows import search_attributes as sa
    from workflows.contracts import CalendarView, CompetitionStart, FinalistsConfirmation, StageMove
    from workflows.core import ACTIVITY_RETRY
    from workflows.errors import rejection
    from workflows.stage_contracts import Promotion


@dataclass(frozen=True)
class Announcement:
    """A confirmed first-round ranking and how far telling the projects has come."""

    confirmation: FinalistsConfirmation
    state: str
    report: AnnouncementReport | None = None


def competition_workflow_id(code: str) -> str:
    """The workflow id of a competition."""
    return f"competition-{code}"


@workflow.defn
class CompetitionWorkflow:
    """Holds the calendar for the whole season; moves to stages propagate to every running project."""

    @workflow.init
    def __init__(self, start: CompetitionStart) -> None:
        self._start = start
        self._calendar: list[StageWindow] = list(start.calendar)
        self._revision = 0
        self._moves: list[StageMove] = []
        self._announcements: list[Announcement] = []
        self._background: list[asyncio.Task[None]] = []
        self._promotions: list[Promotion] = []
        self._final_announcements: list[Announcement] = []

    @workflow.run
    async def run(self, start: CompetitionStart) -> CalendarView:
        """Follow the season's current stage until the ceremony closes."""
        while True:
            now = workflow.now()
            current = next((w for w in self._calendar if now < w.closes_at), None)
            if current is None:
                break
            workflow.upsert_search_attributes(
                [sa.COMPETITION.value_set(start.code), sa.DEADLINE.value_set(current.closes_at)]
            )
            workflow.set_current_details(self._details())
            revision = self._revision
            with suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda rev=revision: self._revision != rev,  # type: ignore[misc]
                    timeout=current.closes_at - now,
                    timeout_summary=f"{presentation.stage_label(current.stage)} closes "
                    f"{presentation.display_time(current.closes_at, start.display_utc_offset_minutes)}",
                )
        workflow.upsert_search_attributes([sa.DEADLINE.value_unset()])
        workflow.set_current_details("**赛季结束 Season over**")
        if self._background:
            await asyncio.gather(*self._background)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.calendar()

    def _details(self) -> str:
        """The calendar as a Markdown table."""
        offset = self._start.display_utc_offset_minutes
        rows = [
            f"| {presentation.stage_label(w.stage)} | {presentation.display_time(w.opens_at, offset)} | "
            f"{presentation.display_time(w.closes_at, offset)} |"
            for w in self._calendar
        ]
        return (
            f"**日程 Calendar** (revision {self._revision})\n\n| 阶段 Stage | 开始 Opens | 结束 Closes |\n"
            "|---|---|---|\n" + "\n".join(rows)
        )

    @workflow.query
    def calendar(self) -> CalendarView:
        """The calendar as it stands."""
        return CalendarView(self._start.code, self._revision, list(self._calendar))

    @workflow.update
    async def move_stage(self, move: StageMove) -> CalendarView:
        """Move one stage's window, then tell every running project of the competition."""
        before = list(self._calendar)
        self._calendar = move_window(self._calendar, Stage(move.stage), move.opens_at, move.closes_at, move.shift_later)
        self._revision += 1
        self._moves.append(move)
        revision, windows = self._revision, list(self._calendar)
        moved = [new.stage.value for old, new in zip(before, windows, strict=True) if old != new]
        await workflow.execute_activity_method(
            CalendarActivities.broadcast_calendar,
            CalendarBroadcast(self._start.code, revision, windows, moved, move.reason),
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(seconds=60),
            retry_policy=ACTIVITY_RETRY,
            summary=f"calendar revision {revision} to projects",
        )
        return self.calendar()

    @move_stage.validator
    def validate_move_stage(self, move: StageMove) -> None:
        """Reject unknown stages, inverted or overlapping windows, and moves without a reason."""
        if move.stage not in {s.value for s in STAGE_ORDER} or move.stage == Stage.AWARD:
            raise rejection(
                "unknown_stage",
                f"不能调整阶段「{move.stage}」",
                f"stage '{move.stage}' cannot be moved (the award stage follows its neighbours)",
            )
        if not move.reason.strip():
            raise rejection("reason_required", "调整日程需要填写理由", "moving a stage needs a reason")
        try:
            move_window(self._calendar, Stage(move.stage), move.opens_at, move.closes_at, move.shift_later)
        except CalendarError as exc:
            raise rejection(
                "invalid_calendar", f"调整后的日程无效：{exc}", f"the moved calendar is invalid: {exc}"
            ) from None

    @workflow.update
    def confirm_finalists(self, confirmation: FinalistsConfirmation) -> Announcement:
        """Record the organiser's confirmation, then tell every live project its result (in the background, through
        an activity, so this history grows by a few events whatever the number of projects)."""
        self._announcements.append(Announcement(confirmation, "announcing"))
        self._background.append(asyncio.create_task(self._announce(len(self._announcements) - 1)))
        return self._announcements[-1]

    @confirm_finalists.validator
    def validate_confirm_finalists(self, confirmation: FinalistsConfirmation) -> None:
        """One confirmed first-round ranking per competition, by a named organiser."""
        if self._announcements:
            done = self._announcements[0].confirmation.run_id
            raise rejection(
                "already_confirmed",
                f"初赛入围名单已确认（排名 {done}），不能再次确认",
                f"the finalists were confirmed already (ranking run {done})",
            )
        if not confirmation.actor.strip() or not confirmation.digest:
            raise rejection("actor_required", "需要注明确认人", "the confirmation needs an actor")

    async def _announce(self, index: int) -> None:
        entry = self._announcements[index]
        report: AnnouncementReport = await workflow.execute_activity_method(
            CohortActivities.announce_first_round,
            AnnouncementRequest(self._start.code, entry.confirmation.run_id),
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=ACTIVITY_RETRY,
            summary=f"first-round results of ranking run {entry.confirmation.run_id} to every project",
        )
        self._announcements[index] = Announcement(entry.confirmation, "announced", report)

    @workflow.query
    def announcements(self) -> list[Announcement]:
        """Confirmed rankings and their announcement's progress."""
        return list(self._announcements)

    @workflow.update
    async def promote(self, promotion: Promotion) -> Promotion:
        """Record a promotion from the reserve and tell the promoted project (one place per failed finalist)."""
        self._promotions.append(promotion)
        await workflow.get_external_workflow_handle(promotion.candidate).signal("promote", promotion)
        return promotion

    @promote.validator
    def validate_promote(self, promotion: Promotion) -> None:
        """A failed finalist's place is filled once; a project is promoted once; named organiser and reason."""
        if any(p.replaces == promotion.replaces for p in self._promotions):
            raise rejection(
                "already_replaced",
                f"项目 {promotion.replaces} 的名额已递补",
                f"the place of {promotion.replaces} was filled already",
            )
        if any(p.candidate == promotion.candidate for p in self._promotions):
            raise rejection("already_promoted", "该项目已递补入围", f"{promotion.candidate} was promoted already")
        if not promotion.actor.strip():
            raise rejection("actor_required", "需要注明决定人", "the promotion needs an actor")
        if not promotion.reason.strip():
            raise rejection("reason_required", "请说明递补理由", "give the promotion's reason")

    @workflow.query
    def promotions(self) -> list[Promotion]:
        """Every promotion from the reserve, in order."""
        return list(self._promotions)

    @workflow.update
    def confirm_awards(self, confirmation: FinalistsConfirmation) -> Announcement:
        """Record the organiser's confirmation of the final ranking and its awards, then tell every finalist its
        result in the background (one activity: this history does not grow with the number of finalists)."""
        self._final_announcements.append(Announcement(confirmation, "announcing"))
        self._background.append(asyncio.create_task(self._announce_final(len(self._final_announcements) - 1)))
        return self._final_announcements[-1]

    @confirm_awards.validator
    def validate_confirm_awards(self, confirmation: FinalistsConfirmation) -> None:
        """One confirmed final ranking per competition, by a named organiser."""
        if self._final_announcements:
            done = self._final_announcements[0].confirmation.run_id
            raise rejection(
                "already_confirmed",
                f"决赛排名与奖项已确认（排名 {done}），不能再次确认",
                f"the final ranking and awards were confirmed already (ranking run {done})",
            )
        if not confirmation.actor.strip() or not confirmation.digest:
            raise rejection("actor_required", "需要注明确认人", "the confirmation needs an actor")

    async def _announce_final(self, index: int) -> None:
        entry = self._final_announcements[index]
        report: AnnouncementReport = await workflow.execute_activity_method(
            CohortActivities.announce_final,
            AnnouncementRequest(self._start.code, entry.confirmation.run_id),
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=ACTIVITY_RETRY,
            summary=f"final results and awards of ranking run {entry.confirmation.run_id} to every finalist",
        )
        self._final_announcements[index] = Announcement(entry.confirmation, "announced", report)

    @workflow.query
    def final_announcements(self) -> list[Announcement]:
        """The confirmed final ranking and its announcement's progress."""
        return list(self._final_announcements)
