"""The award ceremony inside ProjectWorkflow (7.颁奖仪式): an awarded project's team is invited with the time and
place as soon as the organiser sets them (again when either changes), and on the day it is mailed its award with
the link to its certificate."""

from __future__ import annotations

from contextlib import suppress

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import FinalResult
    from domain.awards import LEVEL_NAMES, LEVEL_NAMES_EN
    from domain.calendar import window_of
    from domain.stages import Outcome, Stage
    from workflows import presentation
    from workflows.contracts import DecisionRecord
    from workflows.core import ProjectCore
    from workflows.stage_contracts import CeremonyInvitation

# From this patch on, the ceremony stage mails invitations and awards; histories from before it wait out the stage.
CEREMONY_PATCH = "ceremony-mails"
STAGE = Stage.CEREMONY


class CeremonyStage(ProjectCore):
    """Mixed into ProjectWorkflow; the attributes below are the workflow's own."""

    _outcome: Outcome | None
    _pending: DecisionRecord | None
    _calendar_revision: int
    _final_result: FinalResult | None
    _invitation: CeremonyInvitation | None

    async def _run_ceremony(self) -> DecisionRecord | None:
        """Invite, then on the day grant the award by mail; None when the ceremony is over."""
        granted = False
        while True:
            if self._pending is not None:
                record, self._pending = self._pending, None
                return record
            invitation = self._invitation
            window = window_of(self._calendar, STAGE)
            now = workflow.now()
            award = self._final_result.award if self._final_result else None
            if award and not granted and now >= window.opens_at:
                granted = True
                await self._grant(award, invitation)
                continue
            if now >= window.closes_at:
                return None
            until = window.opens_at if now < window.opens_at else window.closes_at
            self._publish("waiting_to_open" if now < window.opens_at else "ceremony", "organiser", until, overdue=False)
            seen = (self._calendar_revision, invitation)

            def woken(before: tuple[object, ...] = seen) -> bool:
                return self._pending is not None or (self._calendar_revision, self._invitation) != before

            label = f"{presentation.stage_label(STAGE)}: " + presentation.display_time(
                until, self._start.display_utc_offset_minutes
            )
            with suppress(TimeoutError):
                await workflow.wait_condition(woken, timeout=until - now, timeout_summary=label)

    def _award_names(self) -> dict[str, str]:
        award = self._final_result.award if self._final_result else None
        return {
            "award_name": LEVEL_NAMES.get(award or "", ""),
            "award_name_en": LEVEL_NAMES_EN.get(award or "", ""),
        }

    async def _mail_invitation(self, invitation: CeremonyInvitation) -> None:
        starts = presentation.display_time(invitation.starts_at, self._start.display_utc_offset_minutes)
        await self._log("ceremony_invited", STAGE, reason=f"v{invitation.version} {starts} {invitation.venue}")
        await self._mail(
            f"ceremony_invitation/{invitation.version}",
            "ceremony_invitation",
            starts_at=starts,
            venue=invitation.venue,
            **self._award_names(),
        )

    async def _grant(self, award: str, invitation: CeremonyInvitation | None) -> None:
        url = invitation.certificate_url if invitation else ""
        await self._log("award_granted", STAGE, reason=award)
        await self._mail("award_granted", "award_granted", certificate_url=url or "—", **self._award_names())

    @workflow.signal
    async def ceremony_invited(self, invitation: CeremonyInvitation) -> None:
        """The ceremony's time and place, mailed at once whatever the stage (a newer version replaces an older one;
        an ended project is not invited)."""
        if self._outcome is not None or (self._invitation and invitation.version <= self._invitation.version):
            return
        self._invitation = invitation
        await self._mail_invitation(invitation)
