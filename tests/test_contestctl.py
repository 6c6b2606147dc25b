"""`contestctl` as an organiser runs it: the installed command against the API over real HTTP (uvicorn), with an
organiser's API key: a competition from a catalog file as a rehearsal copy, a deadline moved, the dashboard, what is
late, one project's state, exports for Excel, the mail log and the audit log, and clear errors."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalogs import bundled_catalogs
from db.models import RankingRun
from domain.roles import Role
from tests.helpers import registration_body, signed_in

CONTESTCTL = shutil.which("contestctl") or str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "contestctl")


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """One `contestctl` command, as typed in a shell."""
    return subprocess.run([CONTESTCTL, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


async def test_contestctl_runs_a_competition_through_the_api(
    live_api: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    account_id, headers = await signed_in(sessions, Role.ORGANISER)
    async with httpx.AsyncClient(base_url=live_api, headers=headers) as http:
        key = (await http.post(f"/accounts/{account_id}/api-keys", json={"name": "contestctl"})).json()["key"]
    env = os.environ | {"CONTESTFLOW_API_URL": live_api, "CONTESTFLOW_API_KEY": key}
    code = f"cli-{uuid.uuid4().hex[:6]}"

    async def ctl(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(run, list(args), env, tmp_path)

    catalog = bundled_catalogs()["liaoning-2025"]
    created = await ctl("competitions", "create", str(catalog), "--code", code, "--rehearsal-minutes", "240")
    assert created.returncode == 0, created.stderr
    assert code in created.stdout and "first_public_notice" in created.stdout
    again = await ctl("competitions", "create", str(catalog), "--code", code)
    assert again.returncode == 1 and "409 competition_exists" in again.stderr and "已存在" in again.stderr

    async with httpx.AsyncClient(base_url=live_api) as public:
        body = registration_body(f"cli-{uuid.uuid4().hex[:8]}@example.com")
        registered = await public.post(f"/competitions/{code}/projects", json=body)
        assert registered.status_code == 201, registered.text
    project_id = registered.json()["id"]

    closes = (datetime.now(UTC) + timedelta(days=30)).astimezone().isoformat(timespec="seconds")
    shown = await ctl("competitions", "show", code)
    opens = next(line.split()[1] for line in shown.stdout.splitlines() if line.strip().startswith("registration"))
    moved = await ctl(
        "competitions",
        "move",
        code,
        "registration",
        "--opens",
        opens,
        "--closes",
        closes,
        "--reason",
        "延长报名",
        "--shift-later",
    )
    assert moved.returncode == 0, moved.stderr
    assert "calendar revision 1" in moved.stdout
    naive = await ctl(
        "competitions", "move", code, "registration", "--opens", opens[:19], "--closes", closes[:19], "--reason", "x"
    )
    assert naive.returncode == 1 and "timezone_required" in naive.stderr

    board = await ctl("competitions", "dashboard", code)
    assert board.returncode == 0 and "1 projects" in board.stdout and "city_governance 1" in board.stdout
    late = await ctl("competitions", "late", code)
    assert (late.returncode, late.stdout.strip()) == (0, "0 late")
    status = await ctl("project", project_id)
    assert status.returncode == 0 and "stage registration, waiting on team" in status.stdout

    # Exports: 409 with its reason until the ranking is confirmed; then a workbook per table.
    refused = await ctl("competitions", "export", code, "first-round-ranking", "--out", str(tmp_path))
    assert refused.returncode == 1 and "409 ranking_not_confirmed" in refused.stderr
    async with sessions.begin() as session:
        session.add(
            RankingRun(
                competition_code=code,
                round="first_round",
                parameters={},
                result={
                    "tracks": {"city_governance": [{"project_id": project_id, "rank": 1, "score": 88.5}]},
                    "finalists": [project_id],
                },
                digest="0" * 64,
                created_by="organiser",
                confirmed_by="organiser",
                confirmed_at=datetime.now(UTC),
            )
        )
    exported = await ctl("competitions", "export", code, "first-round-ranking", "--out", str(tmp_path / "x"))
    assert exported.returncode == 0, exported.stderr
    sheet = load_workbook(tmp_path / "x" / f"{code}-first-round-ranking.xlsx").active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["赛道", "赛道排名", "项目编号"] and rows[1][:3] == ["city_governance", 1, project_id]

    mails = await ctl("mails", "list", "--workflow", project_id)
    assert mails.returncode == 0 and "registration_received" in mails.stdout
    nothing = await ctl("mails", "resend", "--failed", "--workflow", project_id)
    assert nothing.stdout.strip() == "nothing to resend"
    trail = await ctl("audit", "list", "--object-id", code)
    assert trail.returncode == 0
    actions = [line.split()[3] for line in trail.stdout.splitlines()]
    assert actions[:2] == ["competition.created", "competition.stage_moved"] and "export.downloaded" in actions

    keyless = os.environ | {"CONTESTFLOW_API_KEY": ""}
    anonymous = await asyncio.to_thread(run, ["competitions", "show", code], keyless, tmp_path)
    assert anonymous.returncode == 2 and "CONTESTFLOW_API_KEY" in anonymous.stderr
