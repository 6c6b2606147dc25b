"""Rows from an organiser's CSV or XLSX file: a header row, then one record per row, every cell as text."""

from __future__ import annotations

import csv
import io
from typing import Any


class TableError(ValueError):
    """A file that is not a readable CSV or XLSX table."""


def read_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """Records keyed by the header's (trimmed, lower-cased) names; blank rows skipped."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        rows = _xlsx(content)
    elif name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TableError("CSV files must be UTF-8") from exc
        rows = [list(r) for r in csv.reader(io.StringIO(text))]
    else:
        raise TableError("only .csv and .xlsx files can be imported")
    if not rows:
        raise TableError("the file has no header row")
    header = [h.strip().lower() for h in rows[0]]
    records = []
    for row in rows[1:]:
        cells = [c.strip() for c in row] + [""] * (len(header) - len(row))
        if any(cells):
            records.append(dict(zip(header, cells, strict=False)))
    return records


def _xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise TableError(f"not a readable .xlsx file: {type(exc).__name__}") from exc
    return [["" if cell is None else _text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
