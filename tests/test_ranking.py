"""The first round's ranking as a pure function: unranked below the minimum of valid scores, per-track ranks
with recorded tie-breaks, raw and adjusted scores kept, places allocated, an outcome for every live project,
and a digest that changes exactly when the inputs do. Also the review policy read from the catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.ranking import Allocation, Sheet, compute, digest
from domain.review import ReviewPolicyError, parse_review

T0 = datetime(2025, 7, 10, tzinfo=UTC)
DIMS = ("innovation", "data_value", "application", "business_model", "team")


def sheet(project: str, judge: str, total: float, data_value: float | None = None) -> Sheet:
    values = dict.fromkeys(DIMS, total)
    if data_value is not None:
        values["data_value"] = data_value
    return Sheet(project, judge, 1, total, values)


def world() -> tuple[list[Sheet], dict[str, str], dict[str, datetime]]:
    sheets = [sheet("A1", j, t) for j, t in (("j1", 90), ("j2", 80), ("j3", 70), ("j4", 100), ("j5", 10))]
    sheets += [sheet("A2", j, 80, 95) for j in ("j1", "j2", "j3")]  # ties A1's trimmed mean 80, higher data value
    sheets += [sheet("A3", j, 60) for j in ("j1", "j2", "j3")]
    sheets += [sheet("B1", j, 75) for j in ("j4", "j5", "j6")]
    sheets += [sheet("B2", j, 99) for j in ("j4", "j5")]  # two valid scores only
    live = {"A1": "a", "A2": "a", "A3": "a", "B1": "b", "B2": "b", "C1": "c"}
    completed = {p: T0 + timedelta(hours=i) for i, p in enumerate(sorted(live))}
    return sheets, live, completed


def test_ranking_allocation_and_an_outcome_for_every_live_project() -> None:
    sheets, live, completed = world()
    result = compute(
        sheets,
        live,
        completed,
        min_valid_scores=3,
        normalise=False,
        tie_breaks=["dimension:data_value", "earliest_complete"],
        allocation=Allocation("proportional", total=3, minimum=1),
    )
    assert [(r["project_id"], r["rank"], r["score"]) for r in result["tracks"]["a"]] == [
        ("A2", 1, 80.0),
        ("A1", 2, 80.0),  # trimmed: 90, 80, 70 (100 and 10 dropped)
        ("A3", 3, 60.0),
    ]
    assert result["tracks"]["a"][1]["decided_by"] == "dimension:data_value"
    assert result["tie_break_uses"] == [{"project_id": "A1", "track": "a", "rule": "dimension:data_value"}]
    assert result["unranked"] == {"B2": 2, "C1": 0}
    assert result["allocation"] == {"a": 2, "b": 1, "c": 0}
    assert result["finalists"] == ["A1", "A2", "B1"]
    outcomes = {o["project_id"]: o for o in result["outcomes"]}
    assert set(outcomes) == set(live)
    assert [p for p, o in outcomes.items() if o["advanced"]] == ["A2", "A1", "B1"]
    assert "2 valid scores, 3 needed" in outcomes["B2"]["reason"]
    assert {p for p, o in outcomes.items() if o["reserve"]} == {"A3"}  # track a: 2 places, so a line of 2 (1 left)
    assert outcomes["A3"]["reason"].endswith("reserve 1 of 1")


def test_the_reserve_line_is_as_long_as_the_tracks_places_and_the_rest_leave() -> None:
    sheets = [sheet(f"P{n}", j, 100 - n) for n in range(1, 9) for j in ("j1", "j2", "j3")]
    live = {f"P{n}": "t" for n in range(1, 9)}
    result = compute(
        sheets,
        live,
        {p: T0 for p in live},
        min_valid_scores=3,
        normalise=False,
        tie_breaks=["earliest_complete"],
        allocation=Allocation("fixed", total=3, counts={"t": 3}),
    )
    outcomes = {o["project_id"]: o for o in result["outcomes"]}
    assert result["finalists"] == ["P1", "P2", "P3"]
    assert [p for p in sorted(outcomes) if outcomes[p]["reserve"]] == ["P4", "P5", "P6"]
    assert [outcomes[p]["reason"].rpartition("; ")[2] for p in ("P4", "P6")] == ["reserve 1 of 3", "reserve 3 of 3"]
    assert not any(outcomes[p]["reserve"] for p in ("P1", "P7", "P8"))


def test_earliest_complete_breaks_a_tie_the_dimension_cannot() -> None:
    sheets = [sheet(p, j, 70) for p in ("X", "Y") for j in ("j1", "j2", "j3")]
    completed = {"X": T0 + timedelta(days=1), "Y": T0}
    result = compute(
        sheets,
        {"X": "t", "Y": "t"},
        completed,
        min_valid_scores=3,
        normalise=False,
        tie_breaks=["dimension:data_value", "earliest_complete"],
        allocation=Allocation("fixed", total=1, counts={"t": 1}),
    )
    assert [r["project_id"] for r in result["tracks"]["t"]] == ["Y", "X"]
    assert result["tracks"]["t"][1]["decided_by"] == "earliest_complete" and result["finalists"] == ["Y"]


def test_normalisation_keeps_raw_and_adjusted_scores() -> None:
    sheets, live, completed = world()
    result = compute(
        sheets,
        live,
        completed,
        min_valid_scores=3,
        normalise=True,
        tie_breaks=["earliest_complete"],
        allocation=Allocation("proportional", total=2),
    )
    rows = {r["project_id"]: r for rows in result["tracks"].values() for r in rows}
    assert rows["A1"]["raw"] == 80.0 and rows["A1"]["adjusted"] is not None
    assert rows["A1"]["score"] == rows["A1"]["adjusted"]


def test_fixed_counts_must_add_up() -> None:
    sheets, live, completed = world()
    with pytest.raises(ValueError, match="add up"):
        compute(
            sheets,
            live,
            completed,
            min_valid_scores=3,
            normalise=False,
            tie_breaks=[],
            allocation=Allocation("fixed", total=3, counts={"a": 1}),
        )


def test_digest_changes_exactly_when_the_inputs_change() -> None:
    sheets, _, _ = world()
    parameters = {"min_valid_scores": 3}
    assert digest(sheets, parameters) == digest(list(reversed(sheets)), parameters)
    amended = [*sheets[:-1], Sheet(sheets[-1].project_id, sheets[-1].judge, 2, 98, sheets[-1].values)]
    assert digest(amended, parameters) != digest(sheets, parameters)
    assert digest(sheets, {"min_valid_scores": 4}) != digest(sheets, parameters)


def test_review_policy_from_the_catalog() -> None:
    policy = parse_review({"judges_per_project": 7, "min_valid_scores": 4, "tie_breaks": ["dimension:team"]})
    assert (policy.judges_per_project, policy.min_valid_scores, policy.tie_breaks) == (7, 4, ("dimension:team",))
    assert parse_review(None).judges_per_project == 5


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"judges_per_project": 3, "min_valid_scores": 4}, "min_valid_scores"),
        ({"tie_breaks": ["dimension:charm"]}, "tie_breaks"),
        ({"rubric": [{"code": "a", "name": "甲", "low": 10, "high": 5}]}, r"rubric\[0\]"),
        ({"rubric": [{"code": "a", "name": "甲"}, {"code": "a", "name": "乙"}]}, "unique"),
        ({"reminder_days": -1}, "reminder_days"),
    ],
)
def test_review_policy_errors_name_the_entry(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ReviewPolicyError, match=message):
        parse_review(raw)
