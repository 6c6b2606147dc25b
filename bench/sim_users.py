"""The simulator's users, each step through the public API: teams registering and uploading, organisers checking,
judges signing in and scoring, the public objecting, the committee ruling. Verification, the final, the awards and
the ceremony reuse the season test's driver (tests/season_world.py) with its checks, over real HTTP."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import httpx
import yaml
from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.accounts import create_account
from bench.phases import Patient, Rebase, bounded, expect
from catalogs import bundled_catalogs
from db.models import ProjectEvent
from db.outbox import Mail
from domain.roles import Role
from tests.helpers import PDF, SECTIONS, make_credit_code, unique_id_number
from tests.season_world import end_now, final_to_ceremony, through_first_notice, wait_stage

PASSWORD = "Bench-2025-pw!"
PROOFS = ("unit_qualification", "responsibility_statement", "application_case", "ip_proof")
SHEET_KEYS = ("innovation", "data_value", "application", "business_model", "team")
LONG = 4 * 3600.0  # how long a cohort step may take before the run gives up


class Season:
    """One competition's users and what they have done so far."""

    def __init__(
        self,
        base: str,
        client: Client,
        sessions: async_sessionmaker[AsyncSession],
        projects: int,
        judges: int,
        concurrency: int,
    ) -> None:
        limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
        self.patience = [Patient(httpx.AsyncHTTPTransport(limits=limits)) for _ in range(2)]
        # the organisers' office; teams, judges and the public — both try again while the API restarts
        self.http = httpx.AsyncClient(base_url=base, timeout=3600, transport=self.patience[0])
        self.anon = httpx.AsyncClient(base_url=base, timeout=600, transport=self.patience[1])
        self.transport = Rebase(base)
        self.client, self.sessions = client, sessions
        self.projects, self.judges, self.concurrency = projects, judges, concurrency
        self.code = f"national-{uuid.uuid4().hex[:6]}"
        self.committee: dict[str, str] = {}
        self.project_ids: list[str] = []
        self.tracks: dict[str, str] = {}
        self.judge_names: dict[int, str] = {}
        self.expertise: dict[int, list[str]] = {}
        self.judge_headers: dict[int, dict[str, str]] = {}
        self.objection_count = min(1000, max(100, projects // 25))
        catalog = yaml.safe_load(bundled_catalogs()["liaoning-2025"].read_text(encoding="utf-8"))
        self.problems = [(p["code"], p["track"]) for p in catalog["problems"]]
        self.track_codes = [t["code"] for t in catalog["tracks"]]
        self.rng = random.Random(2025)

    async def _account(self, role: Role) -> dict[str, str]:
        """An account made the way `contestctl accounts create` makes it, signed in through the API."""
        name = f"{role.value}-{uuid.uuid4().hex[:8]}"
        async with self.sessions.begin() as session:
            await create_account(
                session, username=name, display_name=name, email=f"{name}@example.com", role=role, password=PASSWORD
            )
        token = expect(await self.anon.post("/auth/login", json={"username": name, "password": PASSWORD}))["token"]
        return {"Authorization": f"Bearer {token}"}

    async def prepare(self) -> None:
        """The organiser (with an API key, which does not expire), the committee, and a rehearsal competition whose
        calendar only moves when the organiser moves it."""
        headers = await self._account(Role.ORGANISER)
        me = expect(await self.anon.get("/auth/me", headers=headers))
        key = expect(await self.anon.post(f"/accounts/{me['id']}/api-keys", json={"name": "bench"}, headers=headers))
        self.http.headers["X-API-Key"] = key["key"]
        self.committee = await self._account(Role.COMMITTEE)
        body = {"catalog": "liaoning-2025", "code": self.code, "rehearsal": {"season_minutes": 43200}}
        expect(await self.http.post("/competitions", json=body))

    def _registration(self, n: int) -> dict[str, Any]:
        problem, _ = self.problems[n % len(self.problems)]
        email = f"team{n}-{self.code}@example.com"
        return {
            "project_name": f"数据要素项目{n}",
            "problem_code": problem,
            "application": SECTIONS,
            "team": {
                "name": f"团队{n}-{self.code}",
                "contact_name": "王伟",
                "contact_email": email,
                "password": PASSWORD,
                "lead_unit": {
                    "name": f"辽宁数据科技{n}有限公司",
                    "credit_code": make_credit_code(uuid.uuid4().hex),
                    "kind": "enterprise",
                    "independent_legal_person": True,
                    "is_sme": False,  # the final marks the three lowest-ranked SMEs, so the SME rule must act
                },
                "representatives": [
                    {"name": "王伟", "email": email, "id_number": unique_id_number(n), "phone": f"138{n:08d}"}
                ],
            },
        }

    async def register(self) -> None:
        """Every team registers itself (anonymous, as on the public form)."""

        async def one(n: int) -> tuple[str, str]:
            body = self._registration(n)
            created = expect(await self.anon.post(f"/competitions/{self.code}/projects", json=body))
            return created["id"], created["track_code"]

        done = await bounded([lambda n=n: one(n) for n in range(1, self.projects + 1)], self.concurrency)  # type: ignore[misc]
        self.project_ids = [p for p, _ in done]
        self.tracks = dict(done)

    async def upload_proofs(self) -> None:
        """Each required proof as a PDF (by the organisers' office on the teams' behalf)."""

        async def one(project_id: str, category: str) -> None:
            files = {"file": (f"{category}.pdf", PDF + category.encode(), "application/pdf")}
            expect(
                await self.http.post(f"/projects/{project_id}/attachments", data={"category": category}, files=files)
            )

        await bounded(
            [lambda p=p, c=c: one(p, c) for p in self.project_ids for c in PROOFS],  # type: ignore[misc]
            self.concurrency,
        )

    async def close_registration(self) -> None:
        """The organiser closes registration now; every project's workflow checks, locks and moves on."""
        await end_now(self.http, self.code, "registration")
        await wait_stage(
            self.client, self.code, "first_round_review", self.projects, within=LONG, ContestWaitingOn="organiser"
        )

    async def check_all(self) -> None:
        """Qualification and screening pass for every project; done once every screening is in the logs."""

        async def one(project_id: str) -> None:
            once = {"Idempotency-Key": f"{project_id}-qualification"}  # a repeat after a restart is taken once
            expect(
                await self.http.post(f"/projects/{project_id}/qualification", json={"decision": "pass"}, headers=once)
            )
            screening = {"decision": "pass", "score": 80, "organisation": "辽宁省数据评估中心"}
            once = {"Idempotency-Key": f"{project_id}-screening"}
            expect(await self.http.post(f"/projects/{project_id}/screening", json=screening, headers=once))

        await bounded([lambda p=p: one(p) for p in self.project_ids], self.concurrency)  # type: ignore[misc]
        await self._until(lambda: self._logged("screening"), self.projects)

    async def _logged(self, kind: str) -> int:
        async with self.sessions() as session:
            query = select(func.count(distinct(ProjectEvent.project_id))).where(ProjectEvent.kind == kind)
            return (await session.scalar(query.where(ProjectEvent.project_id.like(f"{self.code}-%")))) or 0

    async def _until(self, count: Any, target: int) -> None:
        """Poll a count (of database rows) once a second until it reaches the target."""
        for _ in range(int(LONG)):
            if (await count()) >= target:
                return
            await asyncio.sleep(1)
        raise RuntimeError(f"gave up waiting: {await count()} of {target}")

    async def onboard_judges(self) -> None:
        """Judge accounts (password-hashed, by the organiser) and their profiles: three tracks each, a load cap."""
        cap = 5 * self.projects * 2 // self.judges + 5

        async def one(n: int) -> None:
            name = f"judge{n}-{self.code}"
            body = {
                "username": name,
                "display_name": f"评委{n}",
                "email": f"{name}@example.com",
                "role": "judge",
                "password": PASSWORD,
            }
            account = expect(await self.http.post("/accounts", json=body))
            tracks = [self.track_codes[(n + k) % len(self.track_codes)] for k in range(3)]
            profile = {
                "account_id": account["id"],
                "tracks": tracks,
                "max_load": cap,
                "unit_credit_code": make_credit_code(f"J{n}{self.code}"),
            }
            expect(await self.http.post(f"/competitions/{self.code}/judges", json=profile))
            self.judge_names[account["id"]] = name
            self.expertise[account["id"]] = tracks

        await bounded([lambda n=n: one(n) for n in range(self.judges)], self.concurrency)  # type: ignore[misc]

    async def assign(self) -> dict[str, Any]:
        """The organiser saves the assignment plan; every project is told its judges."""
        plan: dict[str, Any] = expect(
            await self.http.post(f"/competitions/{self.code}/assignments", json={"seed": 7, "dry_run": False})
        )
        if plan["coverage"] != 1.0:
            raise RuntimeError(f"assignment left projects short: {plan}")
        return plan

    async def judges_sign_in(self) -> None:
        """Every judge signs in with a password."""

        async def one(account_id: int, name: str) -> None:
            token = expect(await self.anon.post("/auth/login", json={"username": name, "password": PASSWORD}))["token"]
            self.judge_headers[account_id] = {"Authorization": f"Bearer {token}"}

        await bounded(
            [lambda a=a, n=n: one(a, n) for a, n in self.judge_names.items()],  # type: ignore[misc]
            self.concurrency,
        )

    async def score(self) -> int:
        """Each judge opens the inbox and scores every project in it; the number of sheets."""

        async def inbox(account_id: int) -> list[tuple[int, str]]:
            tasks = expect(await self.anon.get("/judges/me/tasks", headers=self.judge_headers[account_id]))
            return [(account_id, t["project_id"]) for t in tasks]

        inboxes = await bounded([lambda a=a: inbox(a) for a in self.judge_headers], self.concurrency)  # type: ignore[misc]
        sheets = [sheet for tasks in inboxes for sheet in tasks]

        async def one(account_id: int, project_id: str) -> None:
            values = {k: self.rng.randint(50, 100) for k in SHEET_KEYS}
            headers = self.judge_headers[account_id] | {"Idempotency-Key": f"{project_id}-first-round-{account_id}"}
            expect(await self.anon.post(f"/projects/{project_id}/scores", json={"values": values}, headers=headers))

        await bounded([lambda a=a, p=p: one(a, p) for a, p in sheets], self.concurrency)  # type: ignore[misc]
        return len(sheets)

    async def rank(self) -> dict[str, Any]:
        """The ranking of every project, finalists allocated per track in proportion."""
        total = min(84, self.projects // 4)
        minimum = 2 if total >= 2 * len(self.track_codes) else 0  # small runs: no floor per track
        body = {"allocation": {"mode": "proportional", "minimum": minimum, "total": total}}
        run: dict[str, Any] = expect(await self.http.post(f"/competitions/{self.code}/rankings", json=body))
        return run

    async def confirm(self, run: dict[str, Any]) -> None:
        """The organiser confirms; done when every team has its result mail."""
        expect(await self.http.post(f"/competitions/{self.code}/rankings/{run['run_id']}/confirm"))

        async def told() -> int:
            async with self.sessions() as session:
                query = select(func.count()).where(
                    Mail.milestone.in_(("first_round_advanced", "first_round_not_advanced")),
                    Mail.status == "sent",
                    Mail.workflow_id.like(f"{self.code}-%"),
                )
                return (await session.scalar(query)) or 0

        await self._until(told, self.projects)

    async def through_first_notice(self, run: dict[str, Any]) -> list[str]:
        """Verification (a failed visit and a promotion, a conditional verdict, pledges) to the first notice."""
        return await through_first_notice(
            self.http, self.transport, self.client, self.sessions, self.code, run, self.tracks
        )

    async def object_to(self, finalists: list[str]) -> list[int]:
        """Real-name objections with evidence from the public, spread over the projects on the notice."""

        async def one(n: int) -> int:
            form = {
                "project_id": finalists[n % len(finalists)],
                "name": f"举报人{n}",
                "id_number": unique_id_number(900_000 + n),
                "phone": f"139{n:08d}",
                "email": f"objector{n}-{self.code}@example.com",
                "relation": "competitor",
                "grounds": "应用案例证明与实际不符",
            }
            files = [("evidence", ("证据.pdf", PDF, "application/pdf"))]
            url = f"/competitions/{self.code}/notices/first_public_notice/objections"
            receipt = expect(await self.anon.post(url, data=form, files=files))
            return int(receipt["objection_id"])

        return await bounded([lambda n=n: one(n) for n in range(self.objection_count)], self.concurrency)  # type: ignore[misc]

    async def rule(self, objections: list[int]) -> None:
        """The committee dismisses each objection with reasons."""

        async def one(objection_id: int) -> None:
            ruling = {"ruling": "dismissed", "reasons": "经核查，证明材料真实有效"}
            expect(await self.anon.post(f"/objections/{objection_id}/ruling", json=ruling, headers=self.committee))

        await bounded([lambda o=o: one(o) for o in objections], self.concurrency)  # type: ignore[misc]

    async def final_to_ceremony(self, finalists: list[str]) -> dict[str, int]:
        """The roadshow and panel, the final's sheets, awards under the quotas, an upheld objection, the ceremony."""
        judges = {str(a): (self.judge_headers[a], self.expertise[a]) for a in self.judge_headers}
        return await final_to_ceremony(
            self.http, self.transport, self.client, self.sessions, self.code, finalists, self.tracks, judges
        )

    @property
    def retried(self) -> int:
        """Requests the users sent again while a service was away."""
        return sum(p.retried for p in self.patience) + self.transport.retried

    async def close(self) -> None:
        """Close every client."""
        await self.transport.aclose()
        await self.http.aclose()
        await self.anon.aclose()
