"""Supplementary materials inside ProjectWorkflow: requested with a due date, tracked until fulfilled or overdue."""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.stages import Outcome
    from workflows import presentation
    from workflows.contracts import SupplementRequest, SupplementStatus
    from workflows.core import ProjectCore
    from workflows.errors import rejection


class SupplementTracking(ProjectCore):
    """Mixed into ProjectWorkflow; the attributes below are the workflow's own."""

    _outcome: Outcome | None
    _supplements: dict[int, SupplementStatus]

    @workflow.update
    async def request_supplement(self, request: SupplementRequest) -> SupplementStatus:
        """Record the request, mail the team, and watch its due date."""
        status = SupplementStatus(request.request_id, list(request.items), request.due_at, "waiting")
        self._supplements[request.request_id] = status
        await self._log("supplement_requested", self._stage, reason="; ".join(request.items))
        due = presentation.display_time(request.due_at, self._start.display_utc_offset_minutes)
        await self._mail(
            f"supplement_requested/{request.request_id}",
            "supplement_requested",
            items="; ".join(request.items),
            due=due,
        )
        asyncio.create_task(self._watch_supplement(request.request_id))  # noqa: RUF006 - lives with the workflow
        return status

    @request_supplement.validator
    def validate_request_supplement(self, request: SupplementRequest) -> None:
        """A live project, something to ask for, a due date in the future, a request id not used before."""
        if self._outcome is not None:
            raise rejection("project_closed", "项目已结束", "the project has ended")
        if not request.items or any(not i.strip() for i in request.items):
            raise rejection("items_required", "请列出需要补充的材料", "list the materials needed")
        if request.due_at <= workflow.now():
            raise rejection("due_in_past", "补充材料的截止时间必须晚于现在", "the due date must be in the future")
        if request.request_id in self._supplements:
            raise rejection("duplicate_request", "该补充请求已存在", "this supplement request exists already")

    @workflow.signal
    def supplement_fulfilled(self, request_id: int) -> None:
        """The team submitted what was asked."""
        status = self._supplements.get(request_id)
        if status is not None and status.state == "waiting":
            self._supplements[request_id] = SupplementStatus(
                status.request_id, status.items, status.due_at, "fulfilled"
            )

    async def _watch_supplement(self, request_id: int) -> None:
        due: datetime = self._supplements[request_id].due_at
        try:
            await workflow.wait_condition(
                lambda: self._supplements[request_id].state != "waiting",
                timeout=due - workflow.now(),
                timeout_summary=f"supplement {request_id} due",
            )
        except TimeoutError:
            status = self._supplements[request_id]
            self._supplements[request_id] = SupplementStatus(status.request_id, status.items, status.due_at, "overdue")
            await self._log("supplement_overdue", self._stage, reason="; ".join(status.items))
            await self._mail(f"supplement_overdue/{request_id}", "supplement_overdue", items="; ".join(status.items))
