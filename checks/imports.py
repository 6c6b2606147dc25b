"""Importing the dishonest lists and the organiser-affiliation list into the local registry, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CreditListing, OrganiserAffiliate
from db.upsert import insert_if_absent
from domain.eligibility import ListKind
from domain.identifiers import is_valid_credit_code


@dataclass
class RowProblem:
    """Why one row was refused (row 2 is the first after the header)."""

    row: int
    code: str
    message: str


@dataclass
class ImportReport:
    """How many rows were read and imported, and every refused row."""

    rows: int
    imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def _check(rows: list[dict[str, str]], listings: bool) -> ImportReport:
    report = ImportReport(rows=len(rows))
    for number, row in enumerate(rows, start=2):
        code = row.get("credit_code", "").upper()
        if not is_valid_credit_code(code):
            report.problems.append(RowProblem(number, "invalid_credit_code", f"'{code}' is not a valid credit code"))
        if listings and row.get("list_kind", "") not in {k.value for k in ListKind}:
            report.problems.append(
                RowProblem(
                    number, "unknown_list_kind", f"list_kind must be one of {', '.join(k.value for k in ListKind)}"
                )
            )
    return report


async def import_registry(
    session: AsyncSession,
    rows: list[dict[str, str]],
    *,
    listings: bool,
    replace: bool,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate every row; unless it is a dry run and only when all rows pass, write them in the caller's
    transaction (replace drops the old table first)."""
    report = _check(rows, listings)
    if dry_run or report.problems:
        return report
    model = CreditListing if listings else OrganiserAffiliate
    if replace:
        await session.execute(delete(model))
    for row in rows:
        values = {"credit_code": row["credit_code"].upper(), "name": row.get("name", "")}
        if listings:
            values |= {"list_kind": row["list_kind"], "source": row.get("source", "")}
            report.imported += await insert_if_absent(session, CreditListing, values, ["credit_code", "list_kind"])
        else:
            values["note"] = row.get("note", "")
            report.imported += await insert_if_absent(session, OrganiserAffiliate, values, ["credit_code"])
        if progress:
            progress(1)
    return report
