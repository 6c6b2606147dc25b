"""Judges' registry and assignment through the API: dry run first, then saved; conflicts and representatives
never assigned; an assigned judge sees the project, others do not."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.roles import Role
from tests.helpers import complete_proofs, make_credit_code, registration_body, rehearsal, signed_in
from tests.review_world import close_registration_now, pass_checks_via_api

TRACKS = ["city_governance-01", "agriculture-01", "industry-01"]


async def test_assignment_plan_saved_and_enforced(
    api: httpx.AsyncClient,
    public: httpx.AsyncClient,
    transport: httpx.ASGITransport,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    code = await rehearsal(api)
    bodies = [registration_body(f"judged-{code}-{i}@example.com", problem_code=TRACKS[i % 3]) for i in range(12)]
    projects = []
    for body in bodies:
        response = await public.post(f"/competitions/{code}/projects", json=body)
        assert response.status_code == 201, response.text
        projects.append(response.json()["id"])
        await complete_proofs(api, projects[-1])
    conflicted_unit = bodies[0]["team"]["lead_unit"]["credit_code"]
    representative_id = bodies[1]["team"]["representatives"][0]["id_number"]

    judges = [await signed_in(sessions, Role.JUDGE) for _ in range(6)]
    everything = ["city_governance", "agriculture", "industry"]
    for i, (account_id, _) in enumerate(judges):
        body = {
            "account_id": account_id,
            "tracks": everything,
            "max_load": 12,
            "unit_credit_code": conflicted_unit if i == 0 else _unit(i),
        }
        if i == 5:
            body["id_number"] = representative_id
        added = await api.post(f"/competitions/{code}/judges", json=body)
        assert added.status_code == 201, added.text
    again = await api.post(
        f"/competitions/{code}/judges",
        json={"account_id": judges[1][0], "tracks": everything, "max_load": 1, "unit_credit_code": _unit(9)},
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "judge_exists")
    organiser_id = (await api.get("/auth/me")).json()["id"]
    wrong = await api.post(
        f"/competitions/{code}/judges",
        json={"account_id": organiser_id, "tracks": everything, "max_load": 1, "unit_credit_code": _unit(8)},
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "not_a_judge")

    nothing = (await api.post(f"/competitions/{code}/assignments", json={"judges_per_project": 3})).json()
    assert nothing["projects"] == 0  # only projects that passed screening are reviewed
    await close_registration_now(api, code, "演练：提前截止报名")
    await pass_checks_via_api(api, sessions, projects)
    dry = (await api.post(f"/competitions/{code}/assignments", json={"judges_per_project": 3, "seed": 5})).json()
    assert dry["coverage"] == 1.0 and dry["dry_run"] and dry["projects"] == 12
    first_judge = httpx.AsyncClient(transport=transport, base_url="http://t", headers=judges[1][1])
    assert (await first_judge.get(f"/projects/{projects[3]}")).status_code == 404  # nothing saved yet

    saved = (
        await api.post(f"/competitions/{code}/assignments", json={"judges_per_project": 3, "seed": 5, "dry_run": False})
    ).json()
    assert saved["coverage"] == 1.0 and saved["max_load"] <= 12
    seen = 0
    for project_id in projects:
        status = (await first_judge.get(f"/projects/{project_id}")).status_code
        assert status in (200, 404)
        seen += status == 200
    assert 0 < seen <= 12
    conflicted = httpx.AsyncClient(transport=transport, base_url="http://t", headers=judges[0][1])
    assert (await conflicted.get(f"/projects/{projects[0]}")).status_code == 404
    representative = httpx.AsyncClient(transport=transport, base_url="http://t", headers=judges[5][1])
    assert all([(await representative.get(f"/projects/{p}")).status_code == 404 for p in projects])
    refill = (
        await api.post(f"/competitions/{code}/assignments", json={"judges_per_project": 3, "seed": 9, "dry_run": False})
    ).json()
    assert refill["coverage"] == 1.0 and refill["max_load"] == saved["max_load"]  # nothing added twice
    mine = ""
    for project_id in projects:
        if (await first_judge.get(f"/projects/{project_id}")).status_code == 200:
            mine = project_id
            break
    incomplete = await first_judge.post(f"/projects/{mine}/scores", json={"values": {"team": 90}})
    assert (incomplete.status_code, incomplete.json()["error"]["code"]) == (422, "invalid_score")
    assert (await first_judge.get(f"/projects/{mine}/scores")).json() == []
    inbox = (await first_judge.get("/judges/me/tasks")).json()
    assert mine in {t["project_id"] for t in inbox} and len(inbox) == seen
    assert len({t["due_at"] for t in inbox}) == 1 and inbox[0]["due_at"] and not inbox[0]["overdue"]
    team_view = await public.get(f"/projects/{mine}/scores")
    assert team_view.status_code == 404
    for client in (first_judge, conflicted, representative):
        await client.aclose()


def _unit(i: int) -> str:
    return make_credit_code(f"JUDGEUNIT{i}")
