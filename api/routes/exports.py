"""Result tables as files for Excel: `GET /competitions/{code}/exports/{table}?format=xlsx|csv`."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.audit_trail import audit
from api.auth import guard
from api.deps import SessionDep, TemporalDep
from api.errors import competition_not_found
from api.exports import TABLES, to_csv, to_xlsx
from db import models
from domain.roles import Action

router = APIRouter(prefix="/competitions/{code}", tags=["organisers"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ExportName = Literal["first-round-ranking", "finalists", "final-ranking", "awards", "national-recommendations"]


@router.get(
    "/exports/{table}",
    response_class=Response,
    summary="A result table as XLSX or CSV: first-round-ranking, finalists, final-ranking, awards, "
    "national-recommendations",
    **guard(Action.EXPORT_READ),
)
async def export(
    code: str,
    table: ExportName,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    format: Literal["xlsx", "csv"] = "xlsx",
) -> Response:
    """The table as it stands (409 until the ranking or awards it needs are confirmed); each export is audited."""
    if await session.get(models.Competition, code) is None:
        raise competition_not_found(code)
    sheet = await TABLES[table](session, client, code)
    body = to_xlsx(sheet) if format == "xlsx" else to_csv(sheet)
    rows = len(sheet.rows)
    await audit(session, request, "export.downloaded", "competition", code, table=table, format=format, rows=rows)
    await session.commit()
    filename = f"{code}-{table}.{format}"
    return Response(
        body,
        media_type=XLSX if format == "xlsx" else "text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
            "X-Rows": str(rows),
        },
    )
