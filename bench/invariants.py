"""What must hold after a season run through faults: every project ended as its decisions say, every decision and
score sheet recorded once, every mail in the outbox delivered once to the SMTP server, the audit chain intact."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus

from bench.phases import bounded
from db.models import Assignment, ProjectEvent, Score
from db.outbox import Mail
from devtools.mail_sink import read_store_headers
from domain.stages import DECISION_OUTCOMES, Decision, Outcome
from workflows.contracts import ProjectResult
from workflows.project import ProjectWorkflow
from workflows.search_attributes import OUTCOME


def outcome_by_rules(result: ProjectResult, reached_final: bool) -> str:
    """The outcome the rules give a project for its decisions: the first negative decision's (reject, disqualify,
    withdraw); without one, completed when it went through the final, not advanced when the first round or the
    verification left it out."""
    negative = [Decision(d.decision) for d in result.decisions if Decision(d.decision) in DECISION_OUTCOMES]
    if negative:
        return DECISION_OUTCOMES[negative[0]].value
    return Outcome.COMPLETED.value if reached_final else Outcome.NOT_ADVANCED.value


@dataclass(frozen=True)
class Invariant:
    """One checked property: whether it holds, over how many things, and what was found when it did not."""

    name: str
    holds: bool
    checked: int
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        """For the report."""
        return asdict(self)


async def settled_outbox(sessions: async_sessionmaker[AsyncSession], code: str, within: float = 300) -> Counter[str]:
    """The outbox's statuses for the competition once nothing is queued or sending (or the wait ran out)."""
    counts: Counter[str] = Counter()
    for _ in range(int(within)):
        async with sessions() as session:
            rows = await session.execute(
                select(Mail.status, func.count()).where(Mail.workflow_id.like(f"{code}%")).group_by(Mail.status)
            )
            counts = Counter({status: n for status, n in rows.all()})
        if not counts["queued"] and not counts["sending"]:
            break
        await asyncio.sleep(1)
    return counts


async def check_all(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    code: str,
    mail_store: Path,
) -> list[Invariant]:
    """Every invariant of the chaos run, each with its count."""
    query = f"WorkflowType = 'ProjectWorkflow' AND ContestCompetition = '{code}'"
    runs = [w async for w in client.list_workflows(query)]
    statuses = Counter(w.status.name if w.status else "?" for w in runs)
    ended = statuses[WorkflowExecutionStatus.COMPLETED.name]
    found: list[Invariant] = [
        Invariant(
            "every project's workflow completed (none running, failed or terminated)",
            ended == len(runs),
            len(runs),
            str(dict(statuses)),
        )
    ]
    async with sessions() as session:
        logged = dict(
            (
                await session.execute(
                    select(ProjectEvent.project_id, ProjectEvent.reason).where(
                        ProjectEvent.project_id.like(f"{code}-%"), ProjectEvent.kind == "outcome"
                    )
                )
            ).all()
        )
        decisions = Counter(
            (
                await session.execute(
                    select(ProjectEvent.project_id).where(
                        ProjectEvent.project_id.like(f"{code}-%"), ProjectEvent.kind == "decision"
                    )
                )
            )
            .scalars()
            .all()
        )
        sheets = dict(
            (
                await session.execute(
                    select(Score.round, func.count()).where(Score.project_id.like(f"{code}-%")).group_by(Score.round)
                )
            ).all()
        )
        submitted = dict(
            (
                await session.execute(
                    select(Assignment.kind, func.count())
                    .where(Assignment.project_id.like(f"{code}-%"), Assignment.state == "submitted")
                    .group_by(Assignment.kind)
                )
            ).all()
        )
    mismatched = [w.id for w in runs if w.typed_search_attributes.get(OUTCOME) != logged.get(w.id)]
    found.append(
        Invariant(
            "each project's logged outcome is its workflow's outcome",
            not mismatched,
            len(runs),
            ", ".join(mismatched[:5]),
        )
    )

    async def result(workflow_id: str) -> ProjectResult:
        return await client.get_workflow_handle_for(ProjectWorkflow.run, workflow_id).result()

    results = await bounded([lambda w=w: result(w.id) for w in runs], 16)  # type: ignore[misc]
    async with sessions() as session:
        in_final = set(
            await session.scalars(
                select(Assignment.project_id).where(
                    Assignment.project_id.like(f"{code}-%"), Assignment.kind == "final_judge"
                )
            )
        )
    astray = [r.project_id for r in results if r.outcome != outcome_by_rules(r, r.project_id in in_final)]
    found.append(
        Invariant(
            "every project ended as the rules give for its decisions (a negative decision's outcome; else completed"
            " for the final's projects, not advanced for the rest)",
            not astray,
            len(results),
            f"{dict(Counter(r.outcome for r in results))}; astray {astray[:5]}",
        )
    )
    twice = [r.project_id for r in results if decisions.get(r.project_id, 0) != len(r.decisions)]
    found.append(
        Invariant(
            "every accepted decision is in the project's log exactly once",
            not twice,
            sum(len(r.decisions) for r in results),
            ", ".join(twice[:5]),
        )
    )
    expected = {"first_round": submitted.get("judge", 0), "final_review": submitted.get("final_judge", 0)}
    found.append(
        Invariant(
            "every score sheet stored once: one per submitted assignment, in each round, no repeated version",
            sheets == expected,
            sum(sheets.values()),
            f"sheets {sheets} for submitted assignments {expected}",
        )
    )
    outbox = await settled_outbox(sessions, code)
    async with sessions() as session:
        sent = set((await session.scalars(select(Mail.idempotency_key).where(Mail.status == "sent"))).all())
    headers = await asyncio.to_thread(read_store_headers, mail_store)
    delivered = Counter(str(m["X-ContestFlow-Key"]).strip() for m in headers)
    doubled = [k for k, n in delivered.items() if n > 1]
    missing = sent - set(delivered)
    stray = set(delivered) - sent
    found.append(
        Invariant(
            "every outbox mail delivered to the SMTP server exactly once, none left queued, in doubt or failed",
            not doubled
            and not missing
            and not stray
            and not any(outbox[s] for s in ("queued", "sending", "uncertain", "failed")),
            len(sent),
            f"outbox {dict(outbox)}; doubled {doubled[:3]}; not delivered {sorted(missing)[:3]}; "
            f"unknown {sorted(stray)[:3]}",
        )
    )
    chain = (await http.get("/audit/verify")).json()
    found.append(
        Invariant("the audit chain verifies", bool(chain["intact"]), int(chain["records"]), str(chain["problem"] or ""))
    )
    return found
