"""Technical verification rules: the overall verdict, what a report must say, and who is promoted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.verification import ASPECTS, Standing, Verdict, check_report, next_in_line, overall

NOW = datetime(2025, 8, 1, 2, 0, tzinfo=UTC)
CLOSES = datetime(2025, 8, 11, 16, 0, tzinfo=UTC)
ALL_PASS = dict.fromkeys(ASPECTS, "pass")


def codes(verdicts: dict[str, str], findings: str = "", due: datetime | None = None) -> list[str]:
    return [p.code for p in check_report(verdicts, findings, due, CLOSES, NOW)]


def test_the_overall_verdict_is_the_worst_aspect() -> None:
    assert overall(ALL_PASS) is Verdict.PASS
    assert overall({**ALL_PASS, "ip": "conditional"}) is Verdict.CONDITIONAL
    assert overall({**ALL_PASS, "ip": "conditional", "legality": "fail"}) is Verdict.FAIL


def test_a_clean_pass_needs_nothing_more() -> None:
    assert codes(ALL_PASS) == []


def test_every_aspect_must_be_judged_with_a_known_verdict() -> None:
    assert codes({"compliance": "pass"}) == ["verdicts_incomplete"]
    assert codes({**ALL_PASS, "ip": "maybe"}) == ["verdicts_incomplete"]
    assert codes({**ALL_PASS, "beauty": "pass"}) == ["verdicts_incomplete"]


def test_short_of_a_pass_needs_findings_and_a_conditional_needs_a_due_date_in_the_stage() -> None:
    assert codes({**ALL_PASS, "authenticity": "fail"}) == ["findings_required"]
    conditional = {**ALL_PASS, "ip": "conditional"}
    assert codes(conditional, "知识产权证明待补充") == ["remediation_due_required"]
    assert codes(conditional, "知识产权证明待补充", CLOSES + timedelta(days=1)) == ["remediation_due_out_of_range"]
    assert codes(conditional, "知识产权证明待补充", NOW - timedelta(hours=1)) == ["remediation_due_out_of_range"]
    assert codes(conditional, "知识产权证明待补充", NOW + timedelta(days=3)) == []


def test_the_next_in_line_is_the_best_live_non_finalist_of_the_same_track() -> None:
    standings = [
        Standing("A", "industry", 1, live=True, finalist=True),
        Standing("B", "industry", 2, live=False, finalist=False),  # withdrawn
        Standing("D", "industry", 4, live=True, finalist=False),
        Standing("C", "industry", 3, live=True, finalist=False),
        Standing("X", "transport", 1, live=True, finalist=False),
    ]
    assert next_in_line("industry", standings) == "C"
    assert next_in_line("agriculture", standings) is None
