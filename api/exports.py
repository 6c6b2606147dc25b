"""Result tables organisers take to Excel: the first-round ranking, the finalists, the final ranking, the awards and
the national recommendations, each written as CSV (UTF-8 with a BOM, so Excel reads the Chinese) or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.finalists import standings
from db import models
from db.review_queries import confirmed_run
from domain.awards import LEVEL_NAMES

ENDED = ("disqualified", "withdrawn")
Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    """A sheet: its title, its column headers (Chinese, as the notice's lists print them) and its rows."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def to_csv(table: Table) -> bytes:
    """CSV with a BOM: Excel opens it as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(table: Table) -> bytes:
    """One sheet with a bold, frozen header row and columns wide enough for their text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.title[:31]
    sheet.append(list(table.headers))
    for row in table.rows:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, header in enumerate(table.headers, start=1):
        widest = max([len(str(header))] + [len(str(r[index - 1] or "")) for r in table.rows])
        sheet.column_dimensions[get_column_letter(index)].width = min(60, 4 + 2 * widest)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def ended(session: AsyncSession, project_ids: Sequence[str]) -> set[str]:
    """The projects among these that were disqualified or withdrew."""
    rows = await session.execute(
        select(models.ProjectEvent.project_id, models.ProjectEvent.reason).where(
            models.ProjectEvent.kind == "outcome", models.ProjectEvent.project_id.in_(project_ids)
        )
    )
    return {p for p, outcome in rows.all() if outcome in ENDED}


async def _projects(session: AsyncSession, code: str) -> dict[str, tuple[str, str, str]]:
    """Project id → (name, lead unit, credit code)."""
    rows = await session.execute(
        select(models.Project.id, models.Project.name, models.Unit.name, models.Unit.credit_code)
        .join(models.Team, models.Team.id == models.Project.team_id)
        .join(models.Unit, models.Unit.id == models.Team.lead_unit_id)
        .where(models.Project.competition_code == code)
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows.all()}


async def _run(session: AsyncSession, code: str, round_: str) -> dict[str, Any]:
    run = await confirmed_run(session, code, round_)
    if run is None:
        if round_ == "final":
            raise ApiError(409, "awards_not_confirmed", "奖项尚未确认", "the awards are not confirmed yet")
        raise ApiError(409, "ranking_not_confirmed", "初赛排名尚未确认", "the first-round ranking is not confirmed yet")
    result: dict[str, Any] = run.result
    return result


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


async def first_round_ranking(session: AsyncSession, client: Client, code: str) -> Table:
    """Every ranked project per track in rank order, its score and whether it went to the final."""
    result, info = await _run(session, code, "first_round"), await _projects(session, code)
    finalists = set(result["finalists"])
    rows: list[tuple[Cell, ...]] = [
        (
            track,
            r["rank"],
            r["project_id"],
            info[r["project_id"]][0],
            info[r["project_id"]][1],
            r["score"],
            _yes(r["project_id"] in finalists),
        )
        for track, ranked in sorted(result["tracks"].items())
        for r in ranked
    ]
    return Table("初赛排名", ("赛道", "赛道排名", "项目编号", "项目名称", "牵头单位", "初赛得分", "入围决赛"), rows)


async def finalists(session: AsyncSession, client: Client, code: str) -> Table:
    """The finalists now: the confirmed ranking's and those promoted from the reserve, live or not."""
    rows_, promotions = await standings(session, client, code)
    info = await _projects(session, code)
    promoted = {p.candidate: p.replaces for p in promotions}
    rows: list[tuple[Cell, ...]] = [
        (
            s.track,
            s.rank,
            s.project_id,
            info[s.project_id][0],
            info[s.project_id][1],
            promoted.get(s.project_id, ""),
            "在赛" if s.live else "已退出",
        )
        for s in sorted(rows_, key=lambda s: (s.track, s.rank))
        if s.finalist
    ]
    return Table("决赛名单", ("赛道", "初赛赛道排名", "项目编号", "项目名称", "牵头单位", "递补替换", "状态"), rows)


async def final_ranking(session: AsyncSession, client: Client, code: str) -> Table:
    """The confirmed final standings overall, with both rounds' scores and the award."""
    result, info = await _run(session, code, "final"), await _projects(session, code)
    level = {a["project_id"]: LEVEL_NAMES[a["level"]] for a in result["awards"]}
    rows: list[tuple[Cell, ...]] = [
        (
            s["overall_rank"],
            s["track"],
            s["track_rank"],
            s["project_id"],
            info[s["project_id"]][0],
            s["first_round_score"],
            s["final_score"],
            s["combined"],
            _yes(s["sme"]),
            level.get(s["project_id"], ""),
        )
        for s in sorted(result["standings"], key=lambda s: s["overall_rank"])
    ]
    headers = (
        "总排名",
        "赛道",
        "赛道排名",
        "项目编号",
        "项目名称",
        "初赛得分",
        "路演得分",
        "最终得分",
        "中小企业",
        "奖项",
    )
    return Table("决赛排名", headers, rows)


async def awards(session: AsyncSession, client: Client, code: str) -> Table:
    """Each award by track and level, and whether it still stands."""
    result, info = await _run(session, code, "final"), await _projects(session, code)
    revoked = await ended(session, [a["project_id"] for a in result["awards"]])
    rows: list[tuple[Cell, ...]] = [
        (
            a["track"],
            LEVEL_NAMES[a["level"]],
            a["project_id"],
            info[a["project_id"]][0],
            info[a["project_id"]][1],
            "已撤销" if a["project_id"] in revoked else "获奖",
        )
        for a in result["awards"]
    ]
    rows += [
        (v["track"], LEVEL_NAMES[v["level"]], "", f"空缺 {v['count']} 名", "", "空缺") for v in result["vacancies"]
    ]
    return Table("获奖名单", ("赛道", "奖项", "项目编号", "项目名称", "牵头单位", "状态"), rows)


async def national_recommendations(session: AsyncSession, client: Client, code: str) -> Table:
    """The national list in rank order, with the lead unit, SME status, whether the SME rule brought it in."""
    result, info = await _run(session, code, "final"), await _projects(session, code)
    recommended: list[str] = result["recommendations"]["projects"]
    swapped_in = {s["added"] for s in result["recommendations"]["swaps"]}
    standing = {s["project_id"]: s for s in result["standings"]}
    revoked = await ended(session, recommended)
    rows: list[tuple[Cell, ...]] = []
    for n, project_id in enumerate(recommended, start=1):
        (name, unit, credit), s = info[project_id], standing[project_id]
        rows.append(
            (
                n,
                project_id,
                name,
                s["track"],
                unit,
                credit,
                _yes(s["sme"]),
                s["overall_rank"],
                s["combined"],
                _yes(project_id in swapped_in),
                "已撤销" if project_id in revoked else "推荐",
            )
        )
    headers = ("序号", "项目编号", "项目名称", "赛道", "牵头单位", "统一社会信用代码", "中小企业", "总排名", "最终得分")
    return Table("全国赛推荐名单", (*headers, "中小企业递补", "状态"), rows)


Builder = Callable[[AsyncSession, Client, str], Coroutine[Any, Any, Table]]
TABLES: dict[str, Builder] = {
    "first-round-ranking": first_round_ranking,
    "finalists": finalists,
    "final-ranking": final_ranking,
    "awards": awards,
    "national-recommendations": national_recommendations,
}
