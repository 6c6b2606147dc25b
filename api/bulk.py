"""Bulk registration from an organiser's CSV/XLSX: every row checked like an API registration, a dry-run
report of every refused row with its reason code, and nothing half-imported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.materials import materials_state
from api.registration import Entry, check_entry, start_project_workflow, store_entry
from api.schemas import ProjectRegister
from checks.registry import CreditRegistry
from config import Settings
from db.audit import AuditEntry, append_audit
from security.personal_data import PersonalDataCipher

MAX_REPRESENTATIVE_COLUMNS = 10
TRUE = {"1", "true", "yes", "y", "是", "有"}
SECTIONS = ("overview", "solution", "application_value", "business_model", "team_intro")


@dataclass
class RowResult:
    """One row's verdict: its project id when imported, or the reason code and message when refused."""

    row: int
    ok: bool
    code: str = ""
    message: str = ""
    project_id: str = ""


@dataclass
class BulkReport:
    """The whole import: rows read, rows refused, projects created."""

    rows: int
    dry_run: bool
    results: list[RowResult] = field(default_factory=list)

    @property
    def refused(self) -> list[RowResult]:
        """Rows that did not pass."""
        return [r for r in self.results if not r.ok]


def registration_from_row(row: dict[str, str]) -> ProjectRegister:
    """A row (see README for the columns) as the same body the registration API takes."""
    representatives = []
    for i in range(1, MAX_REPRESENTATIVE_COLUMNS + 1):
        if row.get(f"rep{i}_name"):
            representatives.append({k: row.get(f"rep{i}_{k}", "") for k in ("name", "email", "id_number", "phone")})
    application = {s if s != "team_intro" else "team": row.get(s, "") for s in SECTIONS}
    body: dict[str, Any] = {
        "project_name": row.get("project_name", ""),
        "problem_code": row.get("problem_code", ""),
        "application": application if any(application.values()) else None,
        "team": {
            "name": row.get("team_name", ""),
            "contact_name": row.get("contact_name", ""),
            "contact_email": row.get("contact_email", ""),
            "password": row.get("password", ""),
            "lead_unit": {
                "name": row.get("lead_unit_name", ""),
                "credit_code": row.get("lead_credit_code", ""),
                "kind": row.get("lead_kind", ""),
                "independent_legal_person": row.get("independent_legal_person", "").lower() in TRUE,
                "is_sme": row.get("is_sme", "").lower() in TRUE,
            },
            "representatives": representatives,
        },
    }
    return ProjectRegister.model_validate(body)


def _duplicate(body: ProjectRegister, seen: dict[str, set[str]], cipher: PersonalDataCipher) -> str | None:
    keys = {
        "team": {body.team.name},
        "contact": {str(body.team.contact_email).lower()},
        "person": {cipher.blind_index(r.id_number) for r in body.team.representatives},
    }
    for kind, values in keys.items():
        if values & seen[kind]:
            return kind
        seen[kind] |= values
    return None


async def import_registrations(
    session: AsyncSession,
    client: Client,
    registry: CreditRegistry,
    cipher: PersonalDataCipher,
    settings: Settings,
    code: str,
    rows: list[dict[str, str]],
    actor: AuditEntry,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
) -> BulkReport:
    """Check every row; import them all (one transaction, workflows started before commit) only if none fails."""
    report = BulkReport(rows=len(rows), dry_run=dry_run)
    accepted: list[tuple[int, ProjectRegister, Entry]] = []
    seen: dict[str, set[str]] = {"team": set(), "contact": set(), "person": set()}
    for number, row in enumerate(rows, start=2):
        try:
            body = registration_from_row(row)
            duplicate = _duplicate(body, seen, cipher)
            if duplicate:
                raise ApiError(
                    422,
                    f"duplicate_{duplicate}_in_file",
                    "文件内重复",
                    f"the {duplicate} repeats an earlier row of this file",
                )
            entry = await check_entry(session, client, registry, cipher, code, body)
            accepted.append((number, body, entry))
            report.results.append(RowResult(number, True))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            report.results.append(RowResult(number, False, "invalid_row", f"{where}: {first.get('msg', '')}"))
        except ApiError as exc:
            report.results.append(RowResult(number, False, exc.code, exc.en))
        if progress:
            progress(1)
    if dry_run or report.refused:
        return report
    started: list[str] = []
    records: list[AuditEntry] = []
    try:
        for number, body, entry in accepted:
            project, team = await store_entry(session, entry, body, cipher)
            materials = await materials_state(session, project)
            await start_project_workflow(client, settings, entry, project, team, materials, body.team.lead_unit.is_sme)
            started.append(project.id)
            next(r for r in report.results if r.row == number).project_id = project.id
            records.append(
                AuditEntry(
                    actor.actor,
                    actor.role,
                    "project.registered",
                    "project",
                    project.id,
                    actor.request_id,
                    {"bulk_row": number, "team": team.name},
                )
            )
        # The audit chain's head (one row every recorded act takes) only now, not across every row's workflow start.
        for record in records:
            await append_audit(session, record)
        await session.commit()
    except BaseException:
        await session.rollback()
        for project_id in started:
            await client.get_workflow_handle(project_id).terminate(reason="bulk import rolled back")
        raise
    return report
