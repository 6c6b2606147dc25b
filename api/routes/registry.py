"""The local credit registry: organisers import the dishonest lists and the organiser-affiliation list."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, UploadFile

from api.audit_trail import audit
from api.auth import PrincipalDep, guard
from api.bulk import import_registrations
from api.deps import CipherDep, RegistryDep, SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError
from checks.imports import import_registry
from checks.tables import TableError, read_rows
from db.audit import AuditEntry
from domain.roles import Action

router = APIRouter(prefix="/registry", tags=["registry"])
MAX_TABLE_BYTES = 20 * 1024 * 1024


async def read_upload(file: UploadFile) -> list[dict[str, str]]:
    content = await file.read(MAX_TABLE_BYTES + 1)
    if len(content) > MAX_TABLE_BYTES:
        raise ApiError(413, "file_too_large", "表格文件过大", f"tables are capped at {MAX_TABLE_BYTES} bytes")
    try:
        return read_rows(file.filename or "", content)
    except TableError as exc:
        raise ApiError(422, "unreadable_table", "无法读取表格（仅支持 UTF-8 CSV 或 XLSX）", str(exc)) from exc


async def _import(
    kind: str, file: UploadFile, request: Request, session: SessionDep, replace: bool, dry_run: bool
) -> dict[str, Any]:
    rows = await read_upload(file)
    report = await import_registry(session, rows, listings=kind == "listings", replace=replace, dry_run=dry_run)
    body = asdict(report) | {"dry_run": dry_run}
    if report.problems:
        raise ApiError(
            422,
            "import_rejected",
            f"{len(report.problems)} 处错误，未导入任何记录",
            f"{len(report.problems)} problems; nothing was imported",
            report=body,
        )
    if not dry_run:
        await audit(
            session,
            request,
            f"registry.{kind}_imported",
            "registry",
            kind,
            rows=report.rows,
            imported=report.imported,
            replace=replace,
        )
        await session.commit()
    return body


@router.post(
    "/{kind}",
    summary="Import a registry table from CSV/XLSX: listings (credit_code, list_kind, name, "
    "source) or affiliates (credit_code, name, note)",
    **guard(Action.REGISTRY_IMPORT),
)
async def import_table(
    kind: Literal["listings", "affiliates"],
    file: UploadFile,
    request: Request,
    session: SessionDep,
    replace: Annotated[bool, Query()] = False,
    dry_run: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    """All rows or none; the report names every refused row."""
    return await _import(kind, file, request, session, replace, dry_run)


@router.post(
    "/registrations/{code}",
    summary="Bulk-register projects from CSV/XLSX (dry run reports every row)",
    **guard(Action.REGISTRATION_IMPORT),
)
async def import_registration_file(
    code: str,
    file: UploadFile,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    registry: RegistryDep,
    cipher: CipherDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    dry_run: Annotated[bool, Query()] = True,
) -> dict[str, Any]:
    """All rows or none: a row that fails any rule leaves the whole file unimported, with its reason code."""
    rows = await read_upload(file)
    actor = AuditEntry(principal.username, principal.role.value, "", "", "", getattr(request.state, "request_id", "-"))
    report = await import_registrations(session, client, registry, cipher, settings, code, rows, actor, dry_run)
    body = {
        "rows": report.rows,
        "dry_run": dry_run,
        "refused": len(report.refused),
        "results": [asdict(r) for r in report.results],
    }
    if report.refused and not dry_run:
        raise ApiError(
            422,
            "import_rejected",
            f"{len(report.refused)} 行未通过，未导入任何项目",
            f"{len(report.refused)} rows refused; nothing was imported",
            report=body,
        )
    return body
