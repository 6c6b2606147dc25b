"""Objection rules (八、公示与举报): real name with evidence, only while the notice runs; each refusal names why."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.objections import ObjectionDraft, check_objection
from tests.helpers import make_id_number

OPENS = datetime(2025, 8, 12, 16, 0, tzinfo=UTC)  # 2025-08-13 00:00 in Shenyang
CLOSES = OPENS + timedelta(days=7)
GOOD = ObjectionDraft(
    name="李明",
    id_number=make_id_number(7),
    phone="13912345678",
    email="liming@example.com",
    relation="competitor",
    grounds="该项目的应用案例证明与实际不符",
    evidence_files=2,
)


def codes(draft: ObjectionDraft, at: datetime = OPENS + timedelta(days=1)) -> list[str]:
    return [r.code for r in check_objection(draft, at, OPENS, CLOSES)]


def test_a_complete_real_name_objection_within_the_window_is_accepted() -> None:
    assert codes(GOOD) == []
    assert codes(GOOD, at=CLOSES - timedelta(seconds=1)) == []


@pytest.mark.parametrize("blank", ["name", "id_number"])
def test_an_anonymous_objection_is_refused_for_that_alone(blank: str) -> None:
    draft = replace(GOOD, **{blank: "  "}, evidence_files=0)
    refusals = check_objection(draft, OPENS, OPENS, CLOSES)
    assert [(r.code, r.field) for r in refusals] == [("anonymous", "name")]
    assert "匿名" in refusals[0].zh and "anonymous" in refusals[0].en


def test_an_objection_without_evidence_is_refused() -> None:
    assert codes(replace(GOOD, evidence_files=0)) == ["evidence_required"]


@pytest.mark.parametrize("at", [OPENS - timedelta(seconds=1), CLOSES, CLOSES + timedelta(days=3)])
def test_an_objection_before_or_after_the_notice_is_refused(at: datetime) -> None:
    assert codes(GOOD, at=at) == ["outside_notice_window"]


def test_every_bad_field_is_named_at_once() -> None:
    draft = replace(GOOD, id_number="210102198503121230", phone="1234", email="no-at", relation="rival", grounds="")
    assert codes(draft) == [
        "invalid_id_number",
        "invalid_phone",
        "invalid_email",
        "unknown_relation",
        "grounds_required",
    ]
