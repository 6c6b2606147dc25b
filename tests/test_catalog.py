"""The Liaoning 2025 catalog matches the notice, loading rejects bad entries by name, other files work."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalogs import CATALOG_DIR, bundled_catalogs, load_catalog
from domain.catalog import CatalogError, parse_catalog
from domain.stages import Stage

NOTICE = (CATALOG_DIR / "reference" / "liaoning-2025-notice.txt").read_text(encoding="utf-8")
LIAONING = bundled_catalogs()["liaoning-2025"]
TITLE_LINE = re.compile(r"^赛题\s*(\d+)：(.+)$", re.MULTILINE)


def raw() -> dict[str, Any]:
    """The Liaoning catalog as plain data, to break on purpose."""
    return copy.deepcopy(yaml.safe_load(LIAONING.read_text(encoding="utf-8")))


def test_ten_tracks_with_the_notices_problem_counts() -> None:
    catalog = load_catalog(LIAONING)
    assert [t.name for t in catalog.tracks] == [
        "工业制造",
        "现代农业",
        "交通运输",
        "科技创新",
        "文化旅游",
        "医疗保障",
        "应急管理",
        "气象服务",
        "城市治理",
        "综合赛道",
    ]
    assert [len(catalog.problems_of(t.code)) for t in catalog.tracks] == [6, 8, 7, 4, 8, 5, 3, 3, 13, 24]
    assert len(catalog.problems) == 81
    comprehensive = catalog.track("comprehensive")
    assert comprehensive is not None
    assert {g.name: sum(p.group == g.code for p in catalog.problems) for g in comprehensive.groups} == {
        "商贸流通": 7,
        "金融服务": 6,
        "医疗健康": 5,
        "绿色低碳": 4,
        "开放性创新": 2,
    }
    assert comprehensive.guiding_units == (
        "辽宁省数据局",
        "辽宁省生态环境厅",
        "辽宁省商务厅",
        "辽宁省卫生健康委员会",
        "辽宁省地方金融管理局",
    )


def test_every_title_matches_the_notice_in_order() -> None:
    """Each 赛题 heading of the notice's attachment, in order, starts with the catalog's number and title."""
    catalog = load_catalog(LIAONING)
    headings = TITLE_LINE.findall(NOTICE)
    assert len(headings) == len(catalog.problems) == 81
    for problem, (number, heading) in zip(catalog.problems, headings, strict=True):
        assert int(number) == problem.number, problem.code
        assert heading.strip().startswith(problem.title), (problem.code, heading)


def test_every_problem_text_is_the_notices_own() -> None:
    """Texts are the notice's words, joined across page breaks (white space ignored)."""
    flat = re.sub(r"\s+", "", NOTICE)
    for problem in load_catalog(LIAONING).problems:
        assert re.sub(r"\s+", "", problem.title + problem.text) in flat, problem.code


def test_calendar_quotas_and_eligibility_follow_the_notice() -> None:
    catalog = load_catalog(LIAONING)
    assert catalog.timezone == "Asia/Shanghai"
    assert {s: (r.start.isoformat(), r.end.isoformat()) for s, r in catalog.calendar.items()} == {
        Stage.REGISTRATION: ("2025-06-03", "2025-07-18"),
        Stage.FIRST_ROUND_REVIEW: ("2025-07-19", "2025-07-27"),
        Stage.TECHNICAL_VERIFICATION: ("2025-07-28", "2025-08-11"),
        Stage.FIRST_PUBLIC_NOTICE: ("2025-08-12", "2025-08-18"),
        Stage.FINAL_REVIEW: ("2025-08-21", "2025-08-21"),
        Stage.FINAL_PUBLIC_NOTICE: ("2025-08-22", "2025-08-28"),
        Stage.CEREMONY: ("2025-08-29", "2025-08-29"),
    }
    q = catalog.quotas
    assert q.finalists == 84 and q.organisation_awards == 5 and q.national_recommendations == 28
    assert q.national_sme_minimum == 3
    assert (
        q.awards["comprehensive"].first,
        q.awards["comprehensive"].second,
        q.awards["comprehensive"].third,
        q.awards["comprehensive"].excellence,
    ) == (1, 2, 4, 5)
    assert all(
        (a.first, a.second, a.third, a.excellence) == (1, 1, 3, 3)
        for code, a in q.awards.items()
        if code != "comprehensive"
    )
    assert catalog.eligibility.max_representatives == 5
    assert set(catalog.eligibility.public_sector_tracks) == {"city_governance", "meteorology", "emergency"}


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            lambda d: d["problems"][12].update(track="agri"),
            r"problems\[12\] \(agriculture-07\): track 'agri'",
        ),
        (lambda d: d["problems"][3].pop("title"), r"problems\[3\] \(industry-04\): 'title' is required"),
        (
            lambda d: d["problems"][5].update(code=d["problems"][4]["code"]),
            r"code 'industry-05' appears more than once",
        ),
        (
            lambda d: d["problems"][70].update(group="retail"),
            r"group 'retail' is not a group of track 'comprehensive'",
        ),
        (
            lambda d: d["calendar"]["first_public_notice"].update(end="2025-08-20"),
            r"lasts 9 days, the notice period is 7",
        ),
        (
            lambda d: d["calendar"]["final_review"].update(start="2025-08-10", end="2025-08-10"),
            r"calendar.final_review: starts 2025-08-10, not after first_public_notice ends",
        ),
        (lambda d: d["calendar"].pop("ceremony"), r"calendar: 'ceremony' is required"),
        (lambda d: d["calendar"]["registration"].update(start="June 3"), r"'June 3' is not a date"),
        (lambda d: d["quotas"].update(finalists=50), r"track awards exceed 50 finalists"),
        (
            lambda d: d["quotas"]["awards"]["by_track"].update(fintech={}),
            r"'fintech' is not one of the catalog's tracks",
        ),
        (lambda d: d["tracks"][2].update(code="Transport!"), r"tracks\[2\]: code 'Transport!'"),
        (
            lambda d: d["eligibility"].update(public_sector_tracks=["police"]),
            r"'police' is not one of the catalog's",
        ),
    ],
)
def test_a_bad_entry_is_named_in_the_error(breakage: Any, message: str) -> None:
    data = raw()
    breakage(data)
    with pytest.raises(CatalogError, match=message):
        parse_catalog(data)


def test_another_sub_competition_loads_from_another_file(tmp_path: Path) -> None:
    """A different province and year is a different file; nothing in the code names Liaoning."""
    other = Path(__file__).parent / "data" / "example-2026.yaml"
    catalog = load_catalog(other)
    assert catalog.code == "zz-2026" and len(catalog.tracks) == 2 and len(catalog.problems) == 3
    assert catalog.quotas.national_sme_minimum == 1
    assert catalog.calendar[Stage.REGISTRATION].start.isoformat() == "2026-03-01"
