"""The season after the first round for a cohort, through the API as the organiser, a verifier, the teams, the judges,
the public and the committee act; the organiser compresses the rehearsal by moving each stage's close to now (and
the final to a day long, so the roadshow fits). Used by the cohort test after its first round."""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from catalogs import bundled_catalogs, load_catalog
from db.models import Account, Project, Team, Unit
from db.outbox import Mail
from domain.roles import Role
from tests.helpers import make_id_number, signed_in, team_session
from tests.review_world import gather_limited

ALL_PASS = {"compliance": "pass", "authenticity": "pass", "legality": "pass", "ip": "pass"}
PLEDGE = ("承诺书.pdf", b"%PDF-1.7 signed pledge", "application/pdf")
EVIDENCE = ("举报证据.pdf", b"%PDF-1.7 evidence", "application/pdf")
SHEET_KEYS = ("innovation", "data_value", "application", "business_model", "team")


async def wait_stage(client: Client, code: str, stage: str, count: int, within: float = 240, **extra: str) -> None:
    """Until `count` of the competition's running projects are in `stage` (and match `extra` search attributes)."""
    query = f"WorkflowType = 'ProjectWorkflow' AND ContestCompetition = '{code}' AND ContestStage = '{stage}'"
    query += "".join(f" AND {key} = '{value}'" for key, value in extra.items()) + " AND ExecutionStatus = 'Running'"
    deadline = asyncio.get_running_loop().time() + within
    seen = 0
    while asyncio.get_running_loop().time() < deadline:
        seen = (await client.count_workflows(query)).count
        if seen >= count:
            return
        await asyncio.sleep(1)
    raise AssertionError(f"only {seen} of {count} projects of {code} reached {stage} {extra}")


async def move(api: httpx.AsyncClient, code: str, stage: str, opens_at: datetime, closes_at: datetime) -> None:
    """The organiser moves a stage; every later stage moves with its close (a rehearsal compressed on the fly)."""
    body = {
        "opens_at": opens_at.isoformat(),
        "closes_at": closes_at.isoformat(),
        "shift_later": True,
        "reason": "演练：压缩赛程",
    }
    moved = await api.put(f"/competitions/{code}/stages/{stage}", json=body)
    assert moved.status_code == 200, moved.text


async def window(api: httpx.AsyncClient, code: str, stage: str) -> tuple[datetime, datetime]:
    calendar = (await api.get(f"/competitions/{code}")).json()["calendar"]
    found = next(w for w in calendar if w["stage"] == stage)
    return datetime.fromisoformat(found["opens_at"]), datetime.fromisoformat(found["closes_at"])


async def end_now(api: httpx.AsyncClient, code: str, stage: str) -> None:
    """Close a stage a second from now, or a second after it opens when that is still ahead (a fast driver can ask
    within the second the previous stage was given)."""
    opens_at, _ = await window(api, code, stage)
    await move(api, code, stage, opens_at, max(opens_at, datetime.now(UTC)) + timedelta(seconds=1))


async def team_client(
    transport: httpx.AsyncBaseTransport, sessions: async_sessionmaker[AsyncSession], project_id: str
) -> httpx.AsyncClient:
    async with sessions() as session:
        team_id = (await session.get(Project, project_id)).team_id  # type: ignore[union-attr]
    headers = await team_session(sessions, team_id)
    return httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers)


async def verify_all(
    api: httpx.AsyncClient,
    transport: httpx.AsyncBaseTransport,
    sessions: async_sessionmaker[AsyncSession],
    finalists: list[str],
    pledges: int = 3,
) -> None:
    """Every finalist passes: the first few by a signed pledge the team uploads, the rest by an on-site visit the
    organiser reports on."""
    when = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    verifier_id, _ = await signed_in(sessions, Role.VERIFIER)
    async with sessions() as session:
        verifier = (await session.get(Account, verifier_id)).username  # type: ignore[union-attr]
    teams = {p: await team_client(transport, sessions, p) for p in finalists[:pledges]}

    async def one(project_id: str) -> None:
        base = f"/projects/{project_id}/verification"
        team = teams.get(project_id)
        plan = {"method": "pledge"} if team else {"method": "on_site", "verifier": verifier, "visit_at": when}
        assert (await api.post(f"{base}/plan", json=plan)).status_code == 200
        if team is not None:
            uploaded = await team.post(f"{base}/pledge", files={"file": PLEDGE})
            assert uploaded.status_code == 200, uploaded.text
        assert (await api.post(f"{base}/report", json={"verdicts": ALL_PASS})).status_code == 201

    await gather_limited([one(p) for p in finalists], 8)
    for team in teams.values():
        await team.aclose()


async def verify_with_visits(
    api: httpx.AsyncClient,
    transport: httpx.AsyncBaseTransport,
    sessions: async_sessionmaker[AsyncSession],
    failing: str,
    conditional: str,
) -> None:
    """Two on-site visits by one verifier: one fails, one passes after remediation."""
    verifier_id, headers = await signed_in(sessions, Role.VERIFIER)
    async with sessions() as session:
        username = (await session.get(Account, verifier_id)).username  # type: ignore[union-attr]
    visit = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as verifier:
        for project_id in (failing, conditional):
            plan = {"method": "on_site", "verifier": username, "visit_at": visit}
            assert (await api.post(f"/projects/{project_id}/verification/plan", json=plan)).status_code == 200
        failed = {"verdicts": {**ALL_PASS, "authenticity": "fail"}, "findings": "应用案例与现场情况不符"}
        assert (await verifier.post(f"/projects/{failing}/verification/report", json=failed)).status_code == 201
        due = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        partly = {"verdicts": {**ALL_PASS, "ip": "conditional"}, "findings": "缺软件著作权证明", "remediation_due": due}
        assert (await verifier.post(f"/projects/{conditional}/verification/report", json=partly)).status_code == 201
        async with await team_client(transport, sessions, conditional) as team:
            done = await team.post(f"/projects/{conditional}/verification/remediation", json={"note": "已补充证书"})
            assert done.status_code == 200, done.text
        recheck = {"verdicts": ALL_PASS, "findings": "整改到位"}
        assert (await verifier.post(f"/projects/{conditional}/verification/report", json=recheck)).status_code == 201


async def object_to(public: httpx.AsyncClient, code: str, notice: str, project_id: str) -> dict[str, Any]:
    """A real-name objection with evidence, as a competitor files it."""
    form = {
        "project_id": project_id,
        "name": "李明",
        "id_number": make_id_number(91),
        "phone": "13912345678",
        "email": f"objector-{project_id}@example.com",
        "relation": "competitor",
        "grounds": "获奖项目的应用案例证明与实际不符",
    }
    url = f"/competitions/{code}/notices/{notice}/objections"
    filed = await public.post(url, data=form, files=[("evidence", EVIDENCE)])
    assert filed.status_code == 201, filed.text
    receipt: dict[str, Any] = filed.json()
    return receipt


async def mark_smes(sessions: async_sessionmaker[AsyncSession], project_ids: list[str]) -> None:
    async with sessions.begin() as session:
        leads = select(Team.lead_unit_id).join(Project, Project.team_id == Team.id).where(Project.id.in_(project_ids))
        await session.execute(update(Unit).where(Unit.id.in_(leads)).values(is_sme=True))


def check_awards(run: dict[str, Any], finalists_by_track: dict[str, int]) -> None:
    """Every rule of 六、奖项设置 on a final ranking run: quotas per track and level, given top-down in rank order,
    vacancies exactly what could not be given, 28 recommendations with the SME floor (or the shortfall said)."""
    quotas = load_catalog(bundled_catalogs()["liaoning-2025"]).quotas
    given = Counter((a["track"], a["level"]) for a in run["awards"])
    vacant = {(v["track"], v["level"]): v["count"] for v in run["vacancies"]}
    ranked = Counter(s["track"] for s in run["standings"])
    for track, quota in quotas.awards.items():
        for level in ("first", "second", "third", "excellence"):
            assert given[(track, level)] + vacant.get((track, level), 0) == getattr(quota, level), (track, level)
        assert sum(given[(track, lv)] for lv in ("first", "second", "third", "excellence")) == min(
            quota.total, ranked[track]
        )
    rank_of = {s["project_id"]: s["overall_rank"] for s in run["standings"]}
    order = {"first": 0, "second": 1, "third": 2, "excellence": 3}
    for track in quotas.awards:
        mine = sorted((rank_of[a["project_id"]], order[a["level"]]) for a in run["awards"] if a["track"] == track)
        assert [level for _, level in mine] == sorted(level for _, level in mine)  # better rank, never a lower award
    chosen = run["recommendations"]
    assert len(chosen["projects"]) == min(quotas.national_recommendations, len(run["standings"]))
    assert chosen["sme_minimum"] == math.ceil(quotas.national_recommendations * quotas.national_sme_min_ratio)
    assert chosen["smes"] >= chosen["sme_minimum"] or chosen["sme_shortfall"] == chosen["sme_minimum"] - chosen["smes"]
    assert sum(finalists_by_track.values()) >= len(run["standings"])


async def mails_once(sessions: async_sessionmaker[AsyncSession], code: str) -> int:
    """Mails of the competition's projects: each (workflow, milestone, recipient) exactly once (returns the count)."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Mail.workflow_id, Mail.milestone, Mail.recipient, func.count())
                .where(Mail.workflow_id.like(f"{code}-%"))
                .group_by(Mail.workflow_id, Mail.milestone, Mail.recipient)
            )
        ).all()
    assert all(count == 1 for *_, count in rows)
    return len(rows)


async def stage_is(api: httpx.AsyncClient, project_id: str, stage: str, within: float = 240) -> dict[str, Any]:
    """The project's view once it is in `stage` (or has ended). The wait outlasts a killed worker's activity: its
    60 s start-to-close timeout, then the retry (the chaos run kills workers under these steps)."""
    deadline = asyncio.get_running_loop().time() + within
    body: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        body = (await api.get(f"/projects/{project_id}")).json()
        if body.get("stage") == stage or (stage == "ended" and body.get("outcome")):
            return body
        await asyncio.sleep(0.3)
    raise AssertionError(f"{project_id} never reached {stage}: {body}")


async def later_stages(
    api: httpx.AsyncClient,
    transport: httpx.AsyncBaseTransport,
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    code: str,
    run: dict[str, Any],
    tracks: dict[str, str],
    judges: dict[str, tuple[dict[str, str], list[str]]],
) -> dict[str, int]:
    """Verification (a visit that fails and a promotion, a conditional verdict, pledges), the first notice, the
    roadshow and final panel, the final ranking with awards and the SME rule, an upheld objection that revokes an
    award, the ceremony, certificates and the national list; returns the counts it checked."""
    finalists = await through_first_notice(api, transport, client, sessions, code, run, tracks)
    return await final_to_ceremony(api, transport, client, sessions, code, finalists, tracks, judges)


async def through_first_notice(
    api: httpx.AsyncClient,
    transport: httpx.AsyncBaseTransport,
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    code: str,
    run: dict[str, Any],
    tracks: dict[str, str],
) -> list[str]:
    """From the first round's close to every finalist on the first public notice (a failed visit replaced by the
    next in line, a conditional verdict remediated, pledges); returns the finalists on the notice."""
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as public:
        finalists = [f["project_id"] for f in run["finalists"]]
        await end_now(api, code, "first_round_review")
        await wait_stage(client, code, "technical_verification", len(finalists), ContestWaitingOn="organiser")

        failing, conditional = finalists[0], finalists[1]
        await verify_with_visits(api, transport, sessions, failing, conditional)
        assert (await stage_is(api, failing, "ended"))["outcome"] == "disqualified"
        standing = (await api.get(f"/competitions/{code}/reserve")).json()[tracks[failing]]
        expected = next(s["project_id"] for s in standing if s["next_in_line"])
        reason = {"replaces": failing, "reason": "技术验证未通过，按排名递补"}
        promoted = await api.post(f"/competitions/{code}/promotions", json=reason)
        assert promoted.status_code == 201 and promoted.json()["candidate"] == expected, promoted.text
        await stage_is(api, expected, "technical_verification")
        await verify_all(api, transport, sessions, [*finalists[2:], expected])
        finalists = [*finalists[1:], expected]
        await wait_stage(client, code, "first_public_notice", len(finalists))
        await end_now(api, code, "technical_verification")  # the notice opens a second from now: wait for it
        opens, _ = await window(api, code, "first_public_notice")
        await asyncio.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()) + 0.2)
        listing = (await public.get(f"/competitions/{code}/notices/first_public_notice")).json()
        assert sorted(p["project_id"] for p in listing["projects"]) == sorted(finalists)
    return finalists


async def final_to_ceremony(
    api: httpx.AsyncClient,
    transport: httpx.AsyncBaseTransport,
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    code: str,
    finalists: list[str],
    tracks: dict[str, str],
    judges: dict[str, tuple[dict[str, str], list[str]]],
) -> dict[str, int]:
    """From the first notice's close: the roadshow and final panel, the final ranking with awards and the SME rule,
    an upheld objection that revokes an award, the ceremony, certificates and the national list."""
    public = httpx.AsyncClient(transport=transport, base_url="http://t")
    # The final: a day long, ten minutes from now, so the roadshow can be planned and the panel assigned first.
    await end_now(api, code, "first_public_notice")
    now = datetime.now(UTC)
    await move(api, code, "final_review", now + timedelta(minutes=10), now + timedelta(minutes=10, days=1))
    await wait_stage(client, code, "final_review", len(finalists), ContestWaitingOn="organiser")
    opens, closes = await window(api, code, "final_review")
    by_track = Counter(tracks[p] for p in finalists)
    rooms = {t: {"starts_at": (opens + timedelta(minutes=5)).isoformat(), "room": f"{t} 厅"} for t in by_track}
    slots = await api.post(f"/competitions/{code}/final/roadshow", json={"sessions": rooms, "seed": 2025})
    assert slots.status_code == 201, slots.text
    assert Counter(s["track"] for s in slots.json()) == by_track
    panels = {t: [j for j, (_, expertise) in judges.items() if t in expertise][:5] for t in by_track}
    body = {"panels": {t: [int(j) for j in js] for t, js in panels.items()}}
    assigned = await api.post(f"/competitions/{code}/final/panel", json=body)
    assert assigned.status_code == 200, assigned.text
    skipped = {(c["project_id"], c["judge"]) for c in assigned.json()["conflicts"]}
    pairs = [(j, p) for p in finalists for j in panels[tracks[p]] if (p, j) not in skipped]
    assert assigned.json()["assigned"] == len(pairs)
    await move(api, code, "final_review", datetime.now(UTC) - timedelta(seconds=1), closes)
    await wait_stage(client, code, "final_review", len(finalists), ContestWaitingOn="judges")

    rng = random.Random(821)
    scorers = {j: httpx.AsyncClient(transport=transport, base_url="http://t", headers=judges[j][0]) for j, _ in pairs}

    async def score(judge: str, project_id: str) -> None:
        values = {k: rng.randint(55, 100) for k in SHEET_KEYS}
        sent = await scorers[judge].post(f"/projects/{project_id}/scores", json={"values": values})
        assert sent.status_code == 200, sent.text

    await gather_limited([score(j, p) for j, p in pairs], 32)
    for scorer in scorers.values():
        await scorer.aclose()
    first = (await api.post(f"/competitions/{code}/final/ranking")).json()
    smes = [s["project_id"] for s in first["standings"]][-3:]
    await mark_smes(sessions, smes)  # the SMEs rank lowest: the floor must bring in those outside the best 28
    final = (await api.post(f"/competitions/{code}/final/ranking")).json()
    check_awards(final, by_track)
    chosen = final["recommendations"]
    inside = sum(1 for s in final["standings"] if s["project_id"] in smes and s["overall_rank"] <= 28)
    assert chosen["smes"] == 3 and len(chosen["swaps"]) == 3 - inside
    assert {w["added"] for w in chosen["swaps"]} <= set(smes)
    confirmed = await api.post(f"/competitions/{code}/final/ranking/{final['run_id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    await wait_stage(client, code, "final_public_notice", len(finalists))
    winners = (await public.get(f"/competitions/{code}/notices/final_public_notice")).json()["projects"]
    assert {p["project_id"]: p["award"] for p in winners if p["award"]} == {
        a["project_id"]: a["level"] for a in final["awards"]
    }
    await end_now(api, code, "final_review")  # the final notice opens a second from now
    opens, _ = await window(api, code, "final_public_notice")
    await asyncio.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()) + 0.2)

    # An objection against the best award is upheld: the project is disqualified and its award revoked.
    target = final["awards"][0]["project_id"]
    receipt = await object_to(public, code, "final_public_notice", target)
    _, committee = await signed_in(sessions, Role.COMMITTEE)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=committee) as member:
        ruling = {"ruling": "upheld", "reasons": "经核查，举报属实"}
        ruled = await member.post(f"/objections/{receipt['objection_id']}/ruling", json=ruling)
        assert ruled.status_code == 200, ruled.text
    assert (await stage_is(api, target, "ended"))["outcome"] == "disqualified"
    standing_awards = (await api.get(f"/competitions/{code}/awards")).json()
    revoked = [a for a in standing_awards["awards"] if a["state"] == "revoked"]
    assert [(a["project_id"], a["recovery"]) for a in revoked] == [(target, True)]

    await end_now(api, code, "final_public_notice")
    c_open, c_close = await window(api, code, "ceremony")  # a rehearsal's day lasts minutes
    invitation = {"starts_at": (c_open + (c_close - c_open) / 2).isoformat(), "venue": "沈阳市 辽宁大厦"}
    planned = (await api.post(f"/competitions/{code}/ceremony", json=invitation)).json()
    awarded = len(final["awards"]) - 1
    assert planned == {"version": 1, "invited": awarded, "not_invited": [target]}
    day = max(c_open, datetime.now(UTC))  # not before the award stage closes (a second after the notice)
    await move(api, code, "ceremony", day, day + timedelta(seconds=5))
    completed = len(finalists) - 1
    query = f"WorkflowType = 'ProjectWorkflow' AND ContestCompetition = '{code}' AND ContestOutcome = 'completed'"
    for _ in range(240):
        if (await client.count_workflows(query)).count >= completed:
            break
        await asyncio.sleep(1)
    assert (await client.count_workflows(query)).count == completed

    async with sessions() as session:
        granted = await session.scalar(
            select(func.count()).where(Mail.milestone == "award_granted", Mail.workflow_id.like(f"{code}-%"))
        )
    assert granted == awarded
    best_left = next(a["project_id"] for a in standing_awards["awards"] if a["state"] == "awarded")
    certificate = await api.get(f"/projects/{best_left}/certificate")
    assert certificate.status_code == 200 and "2025年‘数据要素×’大赛辽宁分赛" in certificate.text
    assert (await api.get(f"/projects/{target}/certificate")).status_code == 409
    exported = await api.get(f"/competitions/{code}/national-recommendations.csv")
    assert len(exported.text.strip().splitlines()) == len(chosen["projects"]) + 1
    events = [e async for e in client.get_workflow_handle(f"competition-{code}").fetch_history_events()]
    kinds = Counter(EventType.Name(e.event_type) for e in events)
    # Every cohort step is one activity: no activity, signal or timer per project, whatever the cohort's size (about
    # 200 events: a few per update, calendar move and stage).
    assert (
        kinds["EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"] <= 12
        and kinds["EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED"] <= 2
    )
    assert kinds["EVENT_TYPE_TIMER_STARTED"] <= 20 and len(events) < 300, kinds
    await public.aclose()
    return {"finalists": len(finalists), "awards": len(final["awards"]), "mails": await mails_once(sessions, code)}
