"""Personal data: encrypted at rest, masked in listings, clear only to organisers with a logged reason."""

from __future__ import annotations

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Representative, Team
from tests.helpers import registration_body, rehearsal


async def test_masked_everywhere_clear_only_with_a_reason(
    api: httpx.AsyncClient, public: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    code = await rehearsal(api)
    body = registration_body("pii-team@example.com")
    person = body["team"]["representatives"][0]
    project = (await public.post(f"/competitions/{code}/projects", json=body)).json()

    async with sessions() as session:
        raw = (
            await session.execute(
                text("SELECT * FROM representatives r JOIN teams t ON t.id = r.team_id WHERE t.name = :name"),
                {"name": body["team"]["name"]},
            )
        ).one()
        team_id = (await session.scalars(select(Team.id).where(Team.name == body["team"]["name"]))).one()
        index = (
            await session.scalars(select(Representative.id_number_index).where(Representative.team_id == team_id))
        ).one()
    assert person["id_number"] not in str(tuple(raw)) and person["phone"] not in str(tuple(raw))
    assert len(index) == 64

    listed = (await api.get(f"/projects/{project['id']}/representatives")).json()
    assert listed[0]["id_number"] == person["id_number"][:4] + "*" * 10 + person["id_number"][-4:]
    assert listed[0]["phone"] == person["phone"][:3] + "****" + person["phone"][-4:]

    team_token = (
        await public.post("/auth/login", json={"username": "pii-team@example.com", "password": "Liaoning-2025!"})
    ).json()["token"]
    own = await public.get(
        f"/projects/{project['id']}/representatives", headers={"Authorization": f"Bearer {team_token}"}
    )
    assert own.json()[0]["id_number"] == listed[0]["id_number"]

    no_reason = await api.post(f"/projects/{project['id']}/representatives/reveal", json={})
    assert no_reason.status_code == 422
    revealed = await api.post(
        f"/projects/{project['id']}/representatives/reveal", json={"reason": "核实实名举报人与参赛代表关系"}
    )
    assert revealed.json()[0]["id_number"] == person["id_number"] and revealed.json()[0]["phone"] == person["phone"]
    trail = (await api.get("/audit", params={"object_id": project["id"]})).json()
    assert trail[-1]["action"] == "personal_data.revealed"
    assert trail[-1]["details"]["reason"] == "核实实名举报人与参赛代表关系"
    assert person["id_number"] not in str(trail)
