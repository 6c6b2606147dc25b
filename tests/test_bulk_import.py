"""Bulk registration from CSV and XLSX: a dry run reports every refused row with its code; a file with any
refused row imports nothing; a clean file registers every project; the CLI does the same with a progress bar."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
import uuid
from typing import Any

import httpx
from openpyxl import Workbook
from temporalio.testing import WorkflowEnvironment

from config import Settings
from tests.helpers import PEOPLE, SECTIONS, make_credit_code, rehearsal, unique_id_number

COLUMNS = [
    "project_name",
    "problem_code",
    "team_name",
    "contact_name",
    "contact_email",
    "password",
    "lead_unit_name",
    "lead_credit_code",
    "lead_kind",
    "independent_legal_person",
    "is_sme",
    "rep1_name",
    "rep1_email",
    "rep1_id_number",
    "rep1_phone",
    *SECTIONS.keys(),
]


def row(**overrides: str) -> dict[str, str]:
    n = next(PEOPLE)
    base = {
        "project_name": f"项目{n}",
        "problem_code": "agriculture-02",
        "team_name": f"团队{uuid.uuid4().hex[:6]}",
        "contact_name": "张敏",
        "contact_email": f"{uuid.uuid4().hex[:8]}@example.com",
        "password": "Import-2025!",
        "lead_unit_name": "沈阳农科公司",
        "lead_credit_code": make_credit_code(uuid.uuid4().hex),
        "lead_kind": "enterprise",
        "independent_legal_person": "是",
        "is_sme": "yes",
        "rep1_name": "张敏",
        "rep1_email": "zm@example.com",
        "rep1_id_number": unique_id_number(n),
        "rep1_phone": f"137{n:08d}",
        **{("team_intro" if k == "team" else k): v for k, v in SECTIONS.items()},
    }
    return base | overrides


def as_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[c if c != "team" else "team_intro" for c in COLUMNS])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(rows: list[dict[str, str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    header = list(rows[0])
    sheet.append(header)
    for r in rows:
        sheet.append([r[h] for h in header])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def post(api: httpx.AsyncClient, code: str, name: str, content: bytes, dry_run: bool) -> httpx.Response:
    return await api.post(
        f"/registry/registrations/{code}",
        params={"dry_run": str(dry_run).lower()},
        files={"file": (name, content, "application/octet-stream")},
    )


async def count_projects(api: httpx.AsyncClient, code: str) -> int:
    records = (await api.get("/audit", params={"limit": 1000})).json()
    return sum(1 for r in records if r["action"] == "project.registered" and r["object_id"].startswith(code))


async def test_a_refused_row_keeps_the_whole_file_out(api: httpx.AsyncClient) -> None:
    code = await rehearsal(api)
    rows = [row(), row(lead_kind="government_department"), row(rep1_id_number="210102198503120000")]
    rows.append(row(team_name=rows[0]["team_name"]))
    report = (await post(api, code, "teams.csv", as_csv(rows), dry_run=True)).json()
    assert [(r["row"], r["ok"], r["code"]) for r in report["results"]] == [
        (2, True, ""),
        (3, False, "public_sector_track"),
        (4, False, "invalid_row"),
        (5, False, "duplicate_team_in_file"),
    ]
    rejected = await post(api, code, "teams.csv", as_csv(rows), dry_run=False)
    assert (rejected.status_code, rejected.json()["error"]["code"]) == (422, "import_rejected")
    assert await count_projects(api, code) == 0


async def test_a_clean_xlsx_registers_every_project(api: httpx.AsyncClient) -> None:
    code = await rehearsal(api)
    rows = [row(), row(problem_code="city_governance-03", lead_kind="public_institution")]
    imported = await post(api, code, "teams.xlsx", as_xlsx(rows), dry_run=False)
    assert imported.status_code == 200, imported.text
    ids = [r["project_id"] for r in imported.json()["results"]]
    assert ids == [f"{code}-P00001", f"{code}-P00002"]
    project = (await api.get(f"/projects/{ids[1]}")).json()
    assert project["track_code"] == "city_governance" and project["missing_materials"][0].startswith("proof.")


async def test_the_cli_checks_rows_with_a_progress_bar(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, api_settings: Settings, tmp_path: Any
) -> None:
    code = await rehearsal(api)
    path = tmp_path / "teams.csv"
    path.write_bytes(as_csv([row(), row(lead_kind="government_department")]))
    env = dict(
        os.environ,
        CONTESTFLOW_DATABASE_URL=api_settings.database_url,
        CONTESTFLOW_TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        CONTESTFLOW_TEMPORAL_TASK_QUEUE=api_settings.temporal_task_queue,
        CONTESTFLOW_PERSONAL_DATA_KEY=api_settings.personal_data_key,
        CONTESTFLOW_DATA_DIR=str(tmp_path),
    )
    command = [sys.executable, "-m", "cli.contestctl", "import", "registrations", str(path), "--competition", code]
    refused = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "row 3: public_sector_track" in refused.stderr
    assert "checking rows" in refused.stdout
    path.write_bytes(as_csv([row(), row()]))
    done = await asyncio.to_thread(
        subprocess.run, [*command, "--commit"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "registered 2 projects" in done.stdout
    assert (await api.get(f"/projects/{code}-P00002")).status_code == 200
