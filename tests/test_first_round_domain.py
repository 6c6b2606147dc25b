"""First-round rules as pure functions: conflict-free, capped, balanced, deterministic assignment; trimmed
means, z-scores, tie-breaks; finalist allocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.assignment import JudgeProfile, ProjectProfile, assign, conflict, replacement
from domain.finalists import fixed, proportional, select
from domain.scoring import DEFAULT_RUBRIC, RankEntry, rank, rank_by_track, trimmed_mean, z_scores

TRACKS = ("industry", "agriculture", "city_governance")
UNITS = tuple(f"U{i:02d}" for i in range(12))


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[ProjectProfile], list[JudgeProfile]]:
    projects = [
        ProjectProfile(
            f"P{i:03d}",
            draw(st.sampled_from(TRACKS)),
            frozenset(draw(st.sets(st.sampled_from(UNITS), min_size=1, max_size=3))),
        )
        for i in range(draw(st.integers(1, 40)))
    ]
    judges = [
        JudgeProfile(
            f"J{i:02d}",
            frozenset(draw(st.sets(st.sampled_from(TRACKS), min_size=1))),
            frozenset(draw(st.sets(st.sampled_from(UNITS), max_size=2))),
            draw(st.integers(1, 12)),
            frozenset(draw(st.sets(st.sampled_from([p.id for p in projects]), max_size=2))),
            draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()),
        )
        for i in range(draw(st.integers(1, 25)))
    ]
    return projects, judges


@settings(max_examples=100, deadline=None)
@given(worlds(), st.integers(1, 5), st.integers(0, 1000))
def test_no_judge_ever_gets_a_conflicted_project_or_passes_their_cap(
    world: tuple[list[ProjectProfile], list[JudgeProfile]], k: int, seed: int
) -> None:
    projects, judges = world
    plan = assign(projects, judges, k, seed)
    by_id = {j.id: j for j in judges}
    project_by_id = {p.id: p for p in projects}
    for project_id, judge_ids in plan.assignments.items():
        assert len(judge_ids) == len(set(judge_ids)) <= k
        assert k - len(judge_ids) == plan.shortfalls.get(project_id, 0)
        for judge_id in judge_ids:
            judge, project = by_id[judge_id], project_by_id[project_id]
            assert conflict(judge, project) is None and project.track in judge.tracks
    for judge_id, load in plan.loads.items():
        assert load <= by_id[judge_id].max_load


def test_loads_are_balanced_coverage_full_and_the_seed_decides() -> None:
    projects = [ProjectProfile(f"P{i:04d}", TRACKS[i % 3], frozenset({f"T{i}"})) for i in range(300)]
    judges = [JudgeProfile(f"J{i:02d}", frozenset({TRACKS[i % 3]}), frozenset({f"J{i}"}), 40) for i in range(60)]
    plan = assign(projects, judges, 5, seed=7)
    report = plan.report(5)
    assert report["coverage"] == 1.0 and report["missing_reviews"] == 0
    assert report["max_load"] - report["min_load"] <= 1
    assert assign(projects, judges, 5, seed=7).assignments == plan.assignments
    assert assign(projects, judges, 5, seed=8).assignments != plan.assignments


def test_conflicts_by_unit_relation_declaration_and_representation() -> None:
    project = ProjectProfile("P1", "industry", frozenset({"LEAD", "PARENT"}))
    assert (
        conflict(JudgeProfile("a", frozenset({"industry"}), frozenset({"PARENT"}), 5), project)
        == "same_or_related_unit"
    )
    assert (
        conflict(JudgeProfile("b", frozenset({"industry"}), frozenset(), 5, frozenset({"P1"})), project)
        == "declared_conflict"
    )
    assert (
        conflict(JudgeProfile("c", frozenset({"industry"}), frozenset(), 5, is_representative=True), project)
        == "judge_is_representative"
    )
    assert conflict(JudgeProfile("d", frozenset({"industry"}), frozenset({"OTHER"}), 5), project) is None


def test_caps_leave_a_reported_shortfall_and_a_replacement_is_found() -> None:
    projects = [ProjectProfile(f"P{i}", "industry", frozenset()) for i in range(4)]
    judges = [JudgeProfile(f"J{i}", frozenset({"industry"}), frozenset(), 2) for i in range(3)]
    plan = assign(projects, judges, 2, seed=1)
    assert sum(plan.shortfalls.values()) == 4 * 2 - 3 * 2
    target = next(p for p in projects if len(plan.assignments[p.id]) == 2)
    spare = JudgeProfile("J9", frozenset({"industry"}), frozenset(), 2)
    chosen = replacement(target, plan.assignments[target.id], [*judges, spare], plan.loads)
    assert chosen is not None and chosen.id == "J9"


def test_trimmed_mean_drops_extremes_only_from_five_scores() -> None:
    assert trimmed_mean([60, 70, 80, 90, 100]) == 80
    assert trimmed_mean([10, 70, 80, 90]) == 62.5
    with pytest.raises(ValueError):
        trimmed_mean([])


def test_rubric_checks_and_weights() -> None:
    sheet = {"innovation": 80, "data_value": 90, "application": 70, "business_model": 60, "team": 100}
    assert DEFAULT_RUBRIC.problems(sheet) == []
    assert DEFAULT_RUBRIC.total(sheet) == pytest.approx(0.2 * 80 + 0.3 * 90 + 0.25 * 70 + 0.15 * 60 + 0.1 * 100)
    assert DEFAULT_RUBRIC.problems({**sheet, "team": 101, "luck": 5}) == ["unknown:luck", "out_of_range:team"]
    assert DEFAULT_RUBRIC.problems({"innovation": 1}) == [
        "missing:data_value",
        "missing:application",
        "missing:business_model",
        "missing:team",
    ]


def test_z_scores_remove_a_harsh_judges_bias() -> None:
    sheets = [("harsh", "A", 50.0), ("harsh", "B", 60.0), ("kind", "A", 80.0), ("kind", "B", 90.0)]
    adjusted = z_scores(sheets)
    assert adjusted[("harsh", "A")] == pytest.approx(adjusted[("kind", "A")])
    assert adjusted[("harsh", "B")] > adjusted[("harsh", "A")]


def test_ties_are_broken_by_the_fixed_rules_and_the_rule_is_recorded() -> None:
    t0 = datetime(2025, 7, 1, tzinfo=UTC)
    entries = [
        RankEntry("A", "industry", 85.0, {"data_value": 80}, t0 + timedelta(days=2)),
        RankEntry("B", "industry", 85.0, {"data_value": 90}, t0 + timedelta(days=3)),
        RankEntry("C", "industry", 85.0, {"data_value": 90}, t0 + timedelta(days=1)),
        RankEntry("D", "agriculture", 99.0, {"data_value": 10}, t0),
    ]
    ranked = rank(entries, ["dimension:data_value", "earliest_complete"])
    assert [(r.project_id, r.rank, r.decided_by) for r in ranked] == [
        ("D", 1, None),
        ("C", 2, None),
        ("B", 3, "earliest_complete"),
        ("A", 4, "dimension:data_value"),
    ]
    assert [r.project_id for r in rank_by_track(entries, ["dimension:data_value"])["industry"]] == ["B", "C", "A"]


def test_finalist_allocation_proportional_with_minimum_or_fixed() -> None:
    entries = {"industry": 300, "agriculture": 100, "emergency": 5, "empty": 0}
    shares = proportional(entries, 84, minimum=6)
    assert sum(shares.values()) == 84 and shares["emergency"] == 5 and shares["empty"] == 0
    assert shares["industry"] > shares["agriculture"] >= 6
    assert proportional({"a": 3, "b": 2}, 84, minimum=1) == {"a": 3, "b": 2}
    assert fixed({"industry": 80, "agriculture": 4}, entries, 84)["emergency"] == 0
    with pytest.raises(ValueError, match="add up to 83"):
        fixed({"industry": 80, "agriculture": 3}, entries, 84)
    t0 = datetime(2025, 7, 1, tzinfo=UTC)
    rankings = rank_by_track([RankEntry(f"P{i}", "industry", float(i), {}, t0) for i in range(5)], [])
    assert [r.project_id for r in select(rankings, {"industry": 2})] == ["P4", "P3"]


def test_a_replacement_tie_goes_to_the_earlier_account_in_number_order() -> None:
    project = ProjectProfile("P1", "t", frozenset({"U1"}))
    judges = [JudgeProfile(i, frozenset({"t"}), frozenset({f"J{i}"}), 5) for i in ("100", "99")]
    assert replacement(project, [], judges, {}) == judges[1]  # 99 before 100 as numbers, not as text
