"""Walk every cell of the role × action table through the real API: allowed cells pass the guard, denied
cells answer 401/403 (collections) or 404 (projects, as if they did not exist); scopes stop at their edge."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Account
from domain.roles import POLICY, PROJECT_ACTIONS, Action, Role, scope_of
from tests.helpers import registration_body, rehearsal, signed_in

DENIED_CODES = {"auth_required", "forbidden", "project_not_found", "invalid_credentials"}


@dataclass
class World:
    """A competition with two projects (A in city governance, B in agriculture) and one caller per role."""

    code: str
    project_a: str
    project_b: str
    headers: dict[Role, dict[str, str]]
    account_ids: dict[Role, int]
    judge_to_assign: int


@pytest.fixture(scope="module")
async def world(
    api: httpx.AsyncClient, public: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[World]:
    code = await rehearsal(api)
    a_email, b_email = f"a-{uuid.uuid4().hex[:6]}@example.com", f"b-{uuid.uuid4().hex[:6]}@example.com"
    a = await public.post(f"/competitions/{code}/projects", json=registration_body(a_email))
    b = await public.post(
        f"/competitions/{code}/projects", json=registration_body(b_email, problem_code="agriculture-01")
    )
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    login = await public.post("/auth/login", json={"username": a_email, "password": "Liaoning-2025!"})
    assert login.status_code == 200, login.text
    headers: dict[Role, dict[str, str]] = {
        Role.PUBLIC: {},
        Role.TEAM: {"Authorization": f"Bearer {login.json()['token']}"},
    }
    ids: dict[Role, int] = {}
    for role, tracks in (
        (Role.ORGANISER, None),
        (Role.TRACK_GROUP, ["city_governance"]),
        (Role.JUDGE, None),
        (Role.VERIFIER, None),
        (Role.COMMITTEE, None),
        (Role.SCREENER, None),
    ):
        ids[role], headers[role] = await signed_in(sessions, role, tracks=tracks)
    async with sessions() as session:
        ids[Role.TEAM] = (await session.scalars(select(Account.id).where(Account.username == a_email))).one()
    for role in (Role.JUDGE, Role.VERIFIER):
        assigned = await api.post(f"/projects/{a.json()['id']}/assignments", json={"account_id": ids[role]})
        assert assigned.status_code == 201, assigned.text
    spare, _ = await signed_in(sessions, Role.JUDGE)
    yield World(code, a.json()["id"], b.json()["id"], headers, ids, spare)


Call = Callable[[httpx.AsyncClient, World, Role, str], Awaitable[httpx.Response]]


def _calls() -> dict[Action, Call]:
    """One real request per action, aimed at project A (inside every scoped role's reach)."""

    async def schedule(c: httpx.AsyncClient, w: World, r: Role, p: str) -> httpx.Response:
        return await c.put(
            f"/competitions/{w.code}/stages/registration",
            json={
                "opens_at": "2025-07-01T00:00:00+08:00",
                "closes_at": "2025-06-01T00:00:00+08:00",
                "reason": "权限测试",
            },
        )

    async def register(c: httpx.AsyncClient, w: World, r: Role, p: str) -> httpx.Response:
        return await c.post(f"/competitions/{w.code}/projects", json=registration_body(f"{uuid.uuid4().hex[:8]}@x.cn"))

    async def create_account(c: httpx.AsyncClient, w: World, r: Role, p: str) -> httpx.Response:
        name = f"judge-{uuid.uuid4().hex[:8]}"
        return await c.post(
            "/accounts",
            json={
                "username": name,
                "display_name": name,
                "email": f"{name}@x.cn",
                "role": "judge",
                "password": "Judge-2025-pw",
            },
        )

    async def own_keys(c: httpx.AsyncClient, w: World, r: Role, p: str) -> httpx.Response:
        if r is Role.PUBLIC:
            return await c.get(f"/accounts/{w.account_ids[Role.ORGANISER]}/api-keys")
        return await c.post(f"/accounts/{w.account_ids[r]}/api-keys", json={"name": "ci"})

    return {
        Action.HEALTH_READ: lambda c, w, r, p: c.get("/health"),
        Action.COMPETITION_READ: lambda c, w, r, p: c.get(f"/competitions/{w.code}"),
        Action.COMPETITION_CREATE: lambda c, w, r, p: c.post(
            "/competitions", json={"catalog": "liaoning-2025", "code": f"authz-{uuid.uuid4().hex[:6]}", "rehearsal": {}}
        ),
        Action.COMPETITION_SCHEDULE: schedule,
        Action.PROJECT_REGISTER: register,
        Action.PROJECT_READ: lambda c, w, r, p: c.get(f"/projects/{p}"),
        Action.PROJECT_DECIDE: lambda c, w, r, p: c.post(
            f"/projects/{p}/decisions", json={"stage": "final_review", "decision": "advance"}
        ),
        Action.MATERIALS_EDIT: lambda c, w, r, p: c.post(
            f"/projects/{p}/attachments",
            data={"category": "other"},
            files={"file": ("申报书.pdf", b"%PDF-1.7 test", "application/pdf")},
        ),
        Action.REPRESENTATIVES_READ: lambda c, w, r, p: c.get(f"/projects/{p}/representatives"),
        Action.PERSONAL_DATA_REVEAL: lambda c, w, r, p: c.post(
            f"/projects/{p}/representatives/reveal", json={"reason": "核实实名举报"}
        ),
        Action.ASSIGNMENT_CREATE: lambda c, w, r, p: c.post(
            f"/projects/{p}/assignments", json={"account_id": w.judge_to_assign}
        ),
        Action.SUPPLEMENT_REQUEST: lambda c, w, r, p: c.post(
            f"/projects/{p}/supplements", json={"items": ["审计报告"], "due_at": "2020-01-01T00:00:00+08:00"}
        ),
        Action.REGISTRY_IMPORT: lambda c, w, r, p: c.post(
            "/registry/listings?dry_run=true", files={"file": ("l.csv", b"credit_code,list_kind\n", "text/csv")}
        ),
        Action.REGISTRATION_IMPORT: lambda c, w, r, p: c.post(
            f"/registry/registrations/{w.code}?dry_run=true",
            files={"file": ("r.csv", b"project_name\nx\n", "text/csv")},
        ),
        Action.JUDGE_MANAGE: lambda c, w, r, p: c.post(
            f"/competitions/{w.code}/judges",
            json={
                "account_id": w.account_ids[Role.ORGANISER],
                "tracks": ["industry"],
                "max_load": 1,
                "unit_credit_code": "91110000100010433L",
            },
        ),
        Action.ASSIGNMENT_PLAN: lambda c, w, r, p: c.post(f"/competitions/{w.code}/assignments", json={}),
        Action.SCORE_SUBMIT: lambda c, w, r, p: c.post(f"/projects/{p}/scores", json={"values": {"team": 90}}),
        Action.SCORE_READ: lambda c, w, r, p: c.get(f"/projects/{p}/scores"),
        Action.ACCOUNT_CREATE: create_account,
        Action.ACCOUNT_LIST: lambda c, w, r, p: c.get("/accounts"),
        Action.ACCOUNT_UPDATE: lambda c, w, r, p: c.patch(
            f"/accounts/{w.judge_to_assign}", json={"display_name": "评审专家"}
        ),
        Action.ACCOUNT_SELF: lambda c, w, r, p: c.get("/auth/me"),
        Action.SESSION_CREATE: lambda c, w, r, p: c.post("/auth/login", json={"username": "nobody", "password": "x"}),
        Action.API_KEY_MANAGE: own_keys,
        Action.AUDIT_READ: lambda c, w, r, p: c.get("/audit?limit=5"),
        Action.AUDIT_VERIFY: lambda c, w, r, p: c.get("/audit/verify"),
        Action.DASHBOARD_READ: lambda c, w, r, p: c.get(f"/competitions/{w.code}/dashboard"),
        Action.EXPORT_READ: lambda c, w, r, p: c.get(f"/competitions/{w.code}/exports/first-round-ranking"),
        Action.MAIL_READ: lambda c, w, r, p: c.get("/mails?status=failed&limit=1"),
        Action.MAIL_RESEND: lambda c, w, r, p: c.post("/mails/999999999/resend"),
        Action.QUALIFICATION_DECIDE: lambda c, w, r, p: c.post(
            f"/projects/{p}/qualification", json={"decision": "pass"}
        ),
        Action.SCREENING_RECORD: lambda c, w, r, p: c.post(
            f"/projects/{p}/screening", json={"decision": "pass", "score": 80, "organisation": "初筛机构"}
        ),
        Action.REVIEW_INBOX: lambda c, w, r, p: c.get("/judges/me/tasks"),
        Action.CONFLICT_DECLARE: lambda c, w, r, p: c.post(f"/projects/{p}/conflicts", json={"reason": "曾任顾问"}),
        Action.ASSIGNMENT_OVERRIDE: lambda c, w, r, p: c.put(
            f"/projects/{p}/reviewers/{w.account_ids[Role.JUDGE]}", json={"reason": "调整"}
        ),
        Action.REVIEW_MONITOR: lambda c, w, r, p: c.get(f"/competitions/{w.code}/reviews/waiting"),
        Action.RANKING_PREVIEW: lambda c, w, r, p: c.get(f"/competitions/{w.code}/rankings/999999"),
        Action.FINALISTS_CONFIRM: lambda c, w, r, p: c.post(f"/competitions/{w.code}/rankings/999999/confirm"),
        Action.NOTICE_READ: lambda c, w, r, p: c.get(f"/competitions/{w.code}/notices/first_public_notice"),
        Action.OBJECTION_FILE: lambda c, w, r, p: c.post(
            f"/competitions/{w.code}/notices/first_public_notice/objections", data={"project_id": p}
        ),
        Action.OBJECTION_LIST: lambda c, w, r, p: c.get(f"/competitions/{w.code}/objections"),
        Action.OBJECTION_RULE: lambda c, w, r, p: c.post(
            "/objections/999999/ruling", json={"ruling": "dismissed", "reasons": "查无实据"}
        ),
        Action.VERIFICATION_PLAN: lambda c, w, r, p: c.post(
            f"/projects/{p}/verification/plan", json={"method": "pledge"}
        ),
        Action.VERIFICATION_PLEDGE: lambda c, w, r, p: c.post(
            f"/projects/{p}/verification/pledge", files={"file": ("承诺书.pdf", b"%PDF-1.7 test", "application/pdf")}
        ),
        Action.VERIFICATION_REPORT: lambda c, w, r, p: c.post(
            f"/projects/{p}/verification/report", json={"verdicts": {"compliance": "pass"}}
        ),
        Action.VERIFICATION_REMEDIATE: lambda c, w, r, p: c.post(
            f"/projects/{p}/verification/remediation", json={"note": "已整改"}
        ),
        Action.VERIFICATION_READ: lambda c, w, r, p: c.get(f"/projects/{p}/verification"),
        Action.PROMOTION_DECIDE: lambda c, w, r, p: c.get(f"/competitions/{w.code}/reserve"),
        Action.FINAL_SCHEDULE: lambda c, w, r, p: c.get(f"/competitions/{w.code}/final/roadshow"),
        Action.AWARDS_CONFIRM: lambda c, w, r, p: c.post(f"/competitions/{w.code}/final/ranking/999999/confirm"),
        Action.ORGANISATION_AWARDS: lambda c, w, r, p: c.get(f"/competitions/{w.code}/organisation-awards"),
        Action.CEREMONY_PLAN: lambda c, w, r, p: c.post(
            f"/competitions/{w.code}/ceremony", json={"starts_at": "2025-08-29T09:00:00+08:00", "venue": "沈阳"}
        ),
        Action.CERTIFICATE_READ: lambda c, w, r, p: c.get(f"/projects/{p}/certificate"),
    }


CALLS = _calls()
CELLS = [(action, role) for action in Action for role in Role]


def test_every_action_has_a_call_and_a_row() -> None:
    assert set(CALLS) == set(Action) == set(POLICY)


def _denied(response: httpx.Response) -> str | None:
    if response.status_code not in (401, 403, 404):
        return None
    code = response.json()["error"]["code"]
    return code if code in DENIED_CODES else None


@pytest.mark.parametrize(("action", "role"), CELLS, ids=[f"{a.value}-{r.value}" for a, r in CELLS])
async def test_cell(action: Action, role: Role, world: World, transport: httpx.ASGITransport) -> None:
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=world.headers[role]) as client:
        response = await CALLS[action](client, world, role, world.project_a)
    denied = _denied(response)
    if scope_of(role, action) is not None:
        assert denied is None, (response.status_code, response.text)
        assert response.status_code < 500, response.text
    elif action in PROJECT_ACTIONS:
        assert (response.status_code, denied) == (404, "project_not_found"), response.text
    else:
        assert (response.status_code, denied) == (
            (401, "auth_required") if role is Role.PUBLIC else (403, "forbidden")
        ), response.text


@pytest.mark.parametrize("role", [Role.TRACK_GROUP, Role.TEAM, Role.JUDGE, Role.VERIFIER])
async def test_scoped_roles_cannot_see_project_b(role: Role, world: World, transport: httpx.ASGITransport) -> None:
    """B is in another track, of another team, assigned to nobody: it does not exist for these callers."""
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=world.headers[role]) as client:
        for action in (Action.PROJECT_READ, Action.PROJECT_DECIDE, Action.REPRESENTATIVES_READ):
            if scope_of(role, action) is None:
                continue
            response = await CALLS[action](client, world, role, world.project_b)
            assert (response.status_code, _denied(response)) == (404, "project_not_found"), (action, response.text)


async def test_every_route_states_its_roles(public: httpx.AsyncClient) -> None:
    schema: dict[str, Any] = (await public.get("/openapi.json")).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("x-roles"), f"{method.upper()} {path} states no roles"
            assert set(operation["x-roles"]) == {r.value for r in POLICY[Action(operation["x-action"])]}
