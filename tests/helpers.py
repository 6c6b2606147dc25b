"""Helpers for workflow tests: the real Liaoning calendar moved to now, starting projects, waiting on state."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.contracts import FirstRoundResult
from api.accounts import create_account
from catalogs import bundled_catalogs, load_catalog
from db.models import Account, Assignment, Competition, Judge, Project, SessionToken, Team, TeamUnit, Unit
from db.upsert import insert_if_absent
from devtools.binaries import temporal_cli
from domain.calendar import StageWindow, build_calendar
from domain.identifiers import credit_code_check_char
from domain.roles import Role
from domain.stages import Stage
from security.tokens import new_session_token, token_digest
from workflows.contracts import MaterialsState, ProjectResult, ProjectStart, ProjectStatus, TaskDecision
from workflows.project import ProjectWorkflow

SHANGHAI = ZoneInfo("Asia/Shanghai")
HISTORIES = Path(__file__).parent / "histories"


def liaoning_calendar_from(now: datetime) -> list[StageWindow]:
    """The real 2025 Liaoning calendar moved by whole days so that registration opened yesterday.

    Whole-day shifts keep every window's length, every gap and every local-midnight boundary of the notice.
    """
    catalog = load_catalog(bundled_catalogs()["liaoning-2025"])
    days = (now.astimezone(SHANGHAI).date() - date(2025, 6, 3)).days - 1
    return [
        StageWindow(w.stage, w.opens_at + timedelta(days=days), w.closes_at + timedelta(days=days))
        for w in build_calendar(catalog.calendar, SHANGHAI)
    ]


COMPLETE = MaterialsState(complete=True, missing=[], version=1)
SECTIONS = {
    "overview": "项目背景、应用行业、核心优势",
    "solution": "架构设计、关键技术、数据要素利用方案",
    "application_value": "应用案例、经济效益、社会效益",
    "business_model": "推广模式、市场空间",
    "team": "履历、资质和优势",
}


def project_start(
    project_id: str, calendar: list[StageWindow], email: str = "team@example.com", materials: MaterialsState = COMPLETE
) -> ProjectStart:
    """A project in the city governance track (complete materials unless told otherwise)."""
    return ProjectStart(
        project_id=project_id,
        competition_code="ln-test",
        competition_name='2025年"数据要素×"大赛辽宁分赛',
        project_name="城市生命线数字孪生平台",
        team_name="沈阳数智团队",
        track_code="city_governance",
        track_name="城市治理",
        problem_code="city_governance-07",
        problem_title="推动城市管理数智升级",
        contact_name="王伟",
        contact_email=email,
        calendar=calendar,
        materials=materials,
    )


async def seed_project(
    sessions: async_sessionmaker[AsyncSession],
    start: ProjectStart,
    *,
    unit_kind: str = "enterprise",
    credit_code: str | None = None,
) -> str:
    """The database rows a project workflow expects (competition, unit, team, project), without the API."""
    code = credit_code or make_credit_code(uuid.uuid4().hex)
    async with sessions.begin() as session:
        await insert_if_absent(
            session,
            Competition,
            {
                "code": start.competition_code,
                "name": start.competition_name,
                "timezone": "Asia/Shanghai",
                "rehearsal": False,
                "edition": "test-edition",
                "project_counter": 0,
                "created_at": datetime.now(UTC),
                "catalog": {
                    "eligibility": {
                        "max_representatives": 5,
                        "public_sector_tracks": ["city_governance", "meteorology", "emergency"],
                    }
                },
                "calendar": [],
            },
            ["code"],
        )
        unit = Unit(credit_code=code, name=f"单位{code[-6:]}", kind=unit_kind, independent_legal_person=True)
        session.add(unit)
        await session.flush()
        team = Team(
            competition_code=start.competition_code,
            name=f"{start.team_name}{uuid.uuid4().hex[:6]}",
            lead_unit_id=unit.id,
            contact_name=start.contact_name,
            contact_email=start.contact_email,
        )
        session.add(team)
        await session.flush()
        session.add(TeamUnit(team_id=team.id, unit_id=unit.id, role="lead"))
        session.add(
            Project(
                id=start.project_id,
                competition_code=start.competition_code,
                number=uuid.uuid4().int % 10**9,
                name=start.project_name,
                team_id=team.id,
                track_code=start.track_code,
                problem_code=start.problem_code,
            )
        )
    return code


async def start_project(
    client: Client,
    task_queue: str,
    start: ProjectStart,
) -> WorkflowHandle[ProjectWorkflow, ProjectResult]:
    """Start a project workflow on the given task queue."""
    return await client.start_workflow(ProjectWorkflow.run, start, id=start.project_id, task_queue=task_queue)


async def wait_for(
    handle: WorkflowHandle[ProjectWorkflow, ProjectResult],
    predicate: Callable[[ProjectStatus], bool],
    within: float = 15.0,
) -> ProjectStatus:
    """Poll the status query until the predicate holds (real seconds)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        status = await handle.query(ProjectWorkflow.status)
        if predicate(status):
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out; last status: {status}")
        await asyncio.sleep(0.05)


def in_stage(stage: Stage, waiting_on: str | None = None) -> Callable[[ProjectStatus], bool]:
    """A predicate: the project is in `stage` (and waits on `waiting_on`, when given)."""
    return lambda s: s.stage == stage.value and (waiting_on is None or s.waiting_on == waiting_on)


async def skip_to(env: WorkflowEnvironment, when: datetime) -> None:
    """Advance the time-skipping server's clock to `when` (no-op if already past)."""
    now = await env.get_current_time()
    if when > now:
        await env.sleep(when - now)


async def seed_judge(
    sessions: async_sessionmaker[AsyncSession],
    competition_code: str,
    *,
    tracks: tuple[str, ...] = ("city_governance",),
    unit_code: str | None = None,
    max_load: int = 10,
    projects: tuple[str, ...] = (),
    due_at: datetime | None = None,
) -> tuple[str, str]:
    """A judge account with its profile in a competition (assigned to `projects`, when given): (id, email)."""
    account_id, _ = await signed_in(sessions, Role.JUDGE)
    async with sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        session.add(
            Judge(
                competition_code=competition_code,
                account_id=account_id,
                tracks=list(tracks),
                unit_credit_code=unit_code or make_credit_code(uuid.uuid4().hex),
                related_codes=[],
                declared_conflicts=[],
                max_load=max_load,
            )
        )
        for project_id in projects:
            session.add(Assignment(project_id=project_id, account_id=account_id, kind="judge", due_at=due_at))
        return str(account_id), account.email


async def pass_checks(handle: WorkflowHandle[ProjectWorkflow, ProjectResult]) -> None:
    """The qualification check and the third-party screening both pass (the first round must be open)."""
    await wait_for(handle, lambda s: s.review_phase == "qualification" and s.waiting_on == "organiser")
    await handle.execute_update(ProjectWorkflow.qualify, TaskDecision("pass", "资格审查组"))
    await handle.execute_update(
        ProjectWorkflow.screen, TaskDecision("pass", "初筛机构", "材料完整", 82.5, "辽宁省数据评估中心")
    )


async def announce(
    handle: WorkflowHandle[ProjectWorkflow, ProjectResult], advanced: bool, rank: int = 3, reserve: bool | None = None
) -> None:
    """The competition's confirmed first-round result reaches the project (`reserve` None: as from a run before the
    reserve line had a length, when every ranked project waited in it)."""
    reason = "进入本赛道入围名额" if advanced else "未进入本赛道入围名额"
    result = FirstRoundResult(1, advanced, reason, rank, 86.0, reserve)
    await handle.signal(ProjectWorkflow.first_round_result, result)


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With CONTESTFLOW_RECORD_HISTORIES=1, save the run's history for the replay tests in tests/histories/."""
    if os.environ.get("CONTESTFLOW_RECORD_HISTORIES") == "1":
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text((await handle.fetch_history()).to_json())


def make_credit_code(seed: str) -> str:
    """A valid unified social credit code derived from a seed."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91210100MA" + "".join(c for c in seed.upper() if c in alphabet)[:7].ljust(7, "0")
    return body + credit_code_check_char(body)


PEOPLE = itertools.count(1)


def unique_id_number(n: int) -> str:
    """The n-th of a run's distinct valid ID numbers (birth dates from 1960-01-01 on, serials 000-999)."""
    birth = date(1960, 1, 1) + timedelta(days=n // 1000)
    return make_id_number(n % 1000, f"{birth:%Y%m%d}")


def make_id_number(serial: int, birth: str = "19850312") -> str:
    """A valid resident ID number (Shenyang, given birth date) for a serial number."""
    body = f"210102{birth}{serial % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def registration_body(email: str, team: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid registration: one project, a team whose contact gets an account, one representative."""
    serial = next(PEOPLE)
    body: dict[str, Any] = {
        "project_name": "城市生命线数字孪生平台",
        "problem_code": "city_governance-07",
        "application": SECTIONS,
        "team": {
            "name": team or f"团队{uuid.uuid4().hex[:6]}",
            "contact_name": "王伟",
            "contact_email": email,
            "password": "Liaoning-2025!",
            "lead_unit": {
                "name": "沈阳某科技有限公司",
                "credit_code": make_credit_code(uuid.uuid4().hex),
                "kind": "enterprise",
                "independent_legal_person": True,
                "is_sme": True,
            },
            "representatives": [
                {"name": "王伟", "email": email, "id_number": unique_id_number(serial), "phone": f"138{serial:08d}"}
            ],
        },
    }
    body.update(overrides)
    return body


async def session_for(sessions: async_sessionmaker[AsyncSession], account_id: int) -> dict[str, str]:
    """A live session for an existing account: the Authorization header to send."""
    token = new_session_token()
    async with sessions.begin() as session:
        expires = datetime.now(UTC) + timedelta(hours=1)
        session.add(SessionToken(digest=token_digest(token), account_id=account_id, expires_at=expires))
    return {"Authorization": f"Bearer {token}"}


async def team_session(sessions: async_sessionmaker[AsyncSession], team_id: int) -> dict[str, str]:
    """A team account without a password (no hashing: cheap for cohorts) and a live session for it."""
    name = f"team-{uuid.uuid4().hex[:8]}"
    async with sessions.begin() as session:
        account = Account(username=name, display_name=name, email=f"{name}@example.com", role=Role.TEAM.value)
        account.team_id = team_id
        session.add(account)
        await session.flush()
        account_id = account.id
    return await session_for(sessions, account_id)


async def signed_in(
    sessions: async_sessionmaker[AsyncSession],
    role: Role,
    *,
    tracks: list[str] | None = None,
    team_id: int | None = None,
) -> tuple[int, dict[str, str]]:
    """A fresh account of a role with a live session: its id and the Authorization header to send."""
    name = f"{role.value}-{uuid.uuid4().hex[:8]}"
    async with sessions() as session:
        account = await create_account(
            session,
            username=name,
            display_name=name,
            email=f"{name}@example.com",
            role=role,
            password="Password-123",
            tracks=tracks,
            team_id=team_id,
        )
        token = new_session_token()
        session.add(
            SessionToken(
                digest=token_digest(token), account_id=account.id, expires_at=datetime.now(UTC) + timedelta(hours=1)
            )
        )
        await session.commit()
        return account.id, {"Authorization": f"Bearer {token}"}


async def rehearsal(api: httpx.AsyncClient, minutes: float = 60) -> str:
    """A rehearsal copy of the Liaoning competition starting now."""
    code = f"ln-e2e-{uuid.uuid4().hex[:6]}"
    response = await api.post(
        "/competitions",
        json={"catalog": "liaoning-2025", "code": code, "rehearsal": {"season_minutes": minutes}},
    )
    assert response.status_code == 201, response.text
    return code


async def eventually(check: Callable[[], Any], within: float = 20.0) -> Any:
    """Retry an async check until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.25)


PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LIAONING_PROOFS = ("unit_qualification", "responsibility_statement", "application_case", "ip_proof")


async def complete_proofs(client: httpx.AsyncClient, project_id: str, headers: dict[str, str] | None = None) -> None:
    """Upload one PDF for each proof category the Liaoning catalog requires."""
    for category in LIAONING_PROOFS:
        response = await client.post(
            f"/projects/{project_id}/attachments",
            headers=headers or {},
            data={"category": category},
            files={"file": (f"{category}.pdf", PDF + category.encode(), "application/pdf")},
        )
        assert response.status_code == 201, response.text


async def rejection_code(call: object) -> str:
    """The stable code a rejected update carries (with its Chinese and English messages)."""
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call  # type: ignore[misc]
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.details and {"zh", "en"} <= set(cause.details[0])
    return str(cause.type)


def cli_list(env: WorkflowEnvironment, query: str) -> list[str]:
    """Workflow ids that `temporal workflow list --query` finds, as an organiser would list them."""
    address = env.client.service_client.config.target_host
    out = subprocess.run(
        [str(temporal_cli()), "workflow", "list", "--address", address, "--query", query, "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return [row["execution"]["workflowId"] for row in json.loads(out or "[]")]
