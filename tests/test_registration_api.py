"""Registration through the API: each rule answers with its own code and clause; the registry imports;
what the notice fixes (name, problem, representatives after the deadline); materials and supplements."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Team
from tests.helpers import (
    LIAONING_PROOFS,
    PDF,
    PEOPLE,
    SECTIONS,
    complete_proofs,
    eventually,
    make_credit_code,
    registration_body,
    rehearsal,
    unique_id_number,
)


def fresh() -> dict[str, Any]:
    return registration_body(f"{uuid.uuid4().hex[:10]}@example.com")


async def refused(api: httpx.AsyncClient, code: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"/competitions/{code}/projects", json=body)
    assert response.status_code in (409, 422), response.text
    return dict(response.json()["error"])


@pytest.fixture(scope="module")
async def competition(api: httpx.AsyncClient) -> str:
    return await rehearsal(api)


async def test_public_sector_units_only_in_their_tracks(api: httpx.AsyncClient, competition: str) -> None:
    body = fresh()
    body["team"]["lead_unit"]["kind"] = "public_institution"
    body["problem_code"] = "industry-01"
    error = await refused(api, competition, body)
    assert error["code"] == "public_sector_track" and "五(一)5" in error["message_zh"]
    assert error["violations"][0]["clause"] == "五(一)5"
    body["problem_code"] = "emergency-02"
    assert (await api.post(f"/competitions/{competition}/projects", json=body)).status_code == 201


async def test_units_without_legal_person_status_are_refused(api: httpx.AsyncClient, competition: str) -> None:
    body = fresh()
    body["team"]["lead_unit"]["independent_legal_person"] = False
    assert (await refused(api, competition, body))["code"] == "not_independent_legal_person"


async def test_a_person_represents_one_team_across_the_edition(api: httpx.AsyncClient, competition: str) -> None:
    first = fresh()
    assert (await api.post(f"/competitions/{competition}/projects", json=first)).status_code == 201
    second = fresh()
    second["team"]["representatives"] = first["team"]["representatives"]
    error = await refused(api, competition, second)
    assert error["code"] == "representative_elsewhere" and "**********" in error["message_zh"]
    other = await rehearsal(api)  # another sub-competition of the same edition
    assert (await refused(api, other, second))["code"] == "representative_elsewhere"


async def test_a_team_enters_one_sub_competition(api: httpx.AsyncClient, competition: str) -> None:
    body = fresh()
    assert (await api.post(f"/competitions/{competition}/projects", json=body)).status_code == 201
    other = await rehearsal(api)
    again = registration_body(f"{uuid.uuid4().hex[:10]}@example.com", team=body["team"]["name"])
    again["team"]["lead_unit"] = body["team"]["lead_unit"]
    response = await api.post(f"/competitions/{other}/projects", json=again)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "team_second_competition")


async def test_listed_and_organiser_related_units_after_imports(api: httpx.AsyncClient, competition: str) -> None:
    listed, parent = make_credit_code(uuid.uuid4().hex), make_credit_code(uuid.uuid4().hex)
    bad = f"credit_code,list_kind,name,source\n{listed},dishonest_executed,某公司,信用中国\nNOTACODE,unknown,x,y\n"
    rejected = await api.post("/registry/listings", files={"file": ("lists.csv", bad.encode(), "text/csv")})
    assert rejected.status_code == 422
    report = rejected.json()["error"]["report"]
    assert [(p["row"], p["code"]) for p in report["problems"]] == [(3, "invalid_credit_code"), (3, "unknown_list_kind")]
    body = fresh()
    body["team"]["lead_unit"]["credit_code"] = listed
    assert (await api.post(f"/competitions/{competition}/projects", json=body)).status_code == 201  # nothing imported

    good = f"credit_code,list_kind,name,source\n{listed},dishonest_executed,某公司,信用中国\n"
    imported = await api.post("/registry/listings", files={"file": ("lists.csv", good.encode(), "text/csv")})
    assert imported.status_code == 200 and imported.json()["imported"] == 1
    again = fresh()
    again["team"]["lead_unit"]["credit_code"] = listed
    assert (await refused(api, competition, again))["code"] == "listed_dishonest_executed"

    affiliates = f"credit_code,name,note\n{parent},辽宁省数据局下属公司,控股\n"
    assert (
        await api.post("/registry/affiliates", files={"file": ("org.csv", affiliates.encode(), "text/csv")})
    ).status_code == 200
    related = fresh()
    related["team"]["lead_unit"]["related_units"] = [{"name": "母公司", "credit_code": parent, "relation": "parent"}]
    assert (await refused(api, competition, related))["code"] == "organiser_related"


async def test_name_and_problem_are_fixed_and_representatives_lock(
    api: httpx.AsyncClient, competition: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project = (await api.post(f"/competitions/{competition}/projects", json=fresh())).json()
    renamed = await api.patch(f"/projects/{project['id']}", json={"name": "新名字"})
    assert (renamed.status_code, renamed.json()["error"]["code"]) == (409, "name_locked")
    moved = await api.patch(f"/projects/{project['id']}", json={"problem_code": "industry-01"})
    assert (moved.status_code, moved.json()["error"]["code"]) == (409, "problem_locked")
    assert (await api.patch(f"/projects/{project['id']}", json={"name": project["name"]})).status_code == 200
    people = [
        {
            "name": "李娜",
            "email": "li@example.com",
            "id_number": unique_id_number(next(PEOPLE)),
            "phone": "13912345678",
        }
    ]
    replaced = await api.put(f"/projects/{project['id']}/representatives", json={"representatives": people})
    assert replaced.status_code == 200 and replaced.json()[0]["phone"] == "139****5678"
    async with sessions.begin() as session:
        await session.execute(
            update(Team).where(Team.name == project["team_name"]).values(representatives_locked_at=datetime.now(UTC))
        )
    locked = await api.put(f"/projects/{project['id']}/representatives", json={"representatives": people})
    assert (locked.status_code, locked.json()["error"]["code"]) == (409, "representatives_locked")


async def test_materials_are_versioned_and_completeness_tracked(api: httpx.AsyncClient, competition: str) -> None:
    body = fresh()
    body.pop("application")
    project = (await api.post(f"/competitions/{competition}/projects", json=body)).json()
    before = (await api.get(f"/projects/{project['id']}/materials")).json()
    assert (
        not before["complete"] and "application.overview" in before["missing"] and "proof.ip_proof" in before["missing"]
    )
    first = await api.put(f"/projects/{project['id']}/application", json=SECTIONS | {"solution": ""})
    second = await api.put(f"/projects/{project['id']}/application", json=SECTIONS)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    await complete_proofs(api, project["id"])
    again = await api.post(
        f"/projects/{project['id']}/attachments",
        data={"category": "ip_proof"},
        files={"file": ("ip-v2.pdf", b"%PDF-1.7 v2", "application/pdf")},
    )
    assert again.json()["version"] == 2
    after = (await api.get(f"/projects/{project['id']}/materials")).json()
    assert after["complete"] and after["missing"] == [] and after["application"]["version"] == 2

    async def workflow_knows() -> bool:
        return bool((await api.get(f"/projects/{project['id']}")).json()["materials_complete"])

    assert await eventually(workflow_knows)


async def test_proofs_uploaded_in_parallel_all_reach_the_workflow(api: httpx.AsyncClient, competition: str) -> None:
    """A browser uploads a team's proofs at once: each upload's state is read under the project's lock, so the
    workflow ends up with every proof (before, two states could share a version and the later one was dropped,
    which the national benchmark caught as teams wrongly ending `not_submitted`)."""
    ids = [(await api.post(f"/competitions/{competition}/projects", json=fresh())).json()["id"] for _ in range(10)]

    async def upload(project_id: str, category: str) -> None:
        files = {"file": (f"{category}.pdf", PDF + category.encode(), "application/pdf")}
        sent = await api.post(f"/projects/{project_id}/attachments", data={"category": category}, files=files)
        assert sent.status_code == 201, sent.text

    await asyncio.gather(*(upload(p, c) for p in ids for c in LIAONING_PROOFS))

    async def workflows_know() -> list[bool] | None:
        known = [(await api.get(f"/projects/{p}")).json()["materials_complete"] for p in ids]
        return known if all(known) else None

    assert await eventually(workflows_know) == [True] * len(ids)


async def test_supplements_are_tracked_to_fulfilled_or_overdue(api: httpx.AsyncClient, competition: str) -> None:
    project = (await api.post(f"/competitions/{competition}/projects", json=fresh())).json()
    url = f"/projects/{project['id']}/supplements"
    past = await api.post(url, json={"items": ["财务审计报告"], "due_at": "2020-01-01T00:00:00+08:00"})
    assert (past.status_code, past.json()["error"]["code"]) == (409, "due_in_past")
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    overdue = (await api.post(url, json={"items": ["财务审计报告"], "due_at": soon})).json()
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    kept = (await api.post(url, json={"items": ["应用案例证明"], "due_at": later})).json()
    assert (await api.post(f"{url}/{kept['request_id']}/fulfil")).json()["state"] == "fulfilled"

    async def settled() -> dict[int, str] | None:
        states = {
            s["request_id"]: s["state"] for s in (await api.get(f"/projects/{project['id']}")).json()["supplements"]
        }
        return states if states.get(overdue["request_id"]) == "overdue" else None

    states = await eventually(settled)
    assert states == {overdue["request_id"]: "overdue", kept["request_id"]: "fulfilled"}
