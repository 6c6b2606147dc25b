"""Awards under the notice's per-track quotas, vacancies, the 28 national recommendations with the SME floor,
and the organisation awards' checks: pure rules, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalogs import bundled_catalogs, load_catalog
from domain.awards import Award, AwardRuleError, Ranked, allocate_awards, check_organisation_awards, recommend
from domain.catalog import AwardQuota

CATALOG = load_catalog(bundled_catalogs()["liaoning-2025"])


def cohort(per_track: dict[str, int], smes: Collection[int] = ()) -> list[Ranked]:
    """Projects dealt to tracks in the given numbers, ranked overall in the order they are made."""
    out: list[Ranked] = []
    for track, count in per_track.items():
        for _ in range(count):
            n = len(out) + 1
            out.append(Ranked(f"P{n:03d}", track, n, n in smes))
    return out


def test_the_liaoning_quotas_give_84_awards_and_the_comprehensive_track_more() -> None:
    quotas = CATALOG.quotas.awards
    assert quotas["comprehensive"] == AwardQuota(1, 2, 4, 5)
    assert all(q == AwardQuota(1, 1, 3, 3) for t, q in quotas.items() if t != "comprehensive")
    finalists = cohort({t: q.total for t, q in quotas.items()})
    plan = allocate_awards(finalists, quotas)
    assert len(plan.awards) == 84 == CATALOG.quotas.finalists and plan.vacancies == ()
    levels = Counter((a.track, a.level) for a in plan.awards)
    assert levels[("comprehensive", "second")] == 2 and levels[("industry", "second")] == 1
    assert sum(1 for a in plan.awards if a.level == "first") == 10


def test_awards_go_top_down_in_rank_order_within_each_track() -> None:
    ranked = [Ranked("late", "industry", 9, False), Ranked("early", "industry", 2, False)]
    ranked += [Ranked(f"x{n}", "industry", 20 + n, False) for n in range(6)]
    plan = allocate_awards(ranked, {"industry": AwardQuota(1, 1, 3, 3)})
    assert [(a.project_id, a.level) for a in plan.awards[:3]] == [
        ("early", "first"),
        ("late", "second"),
        ("x0", "third"),
    ]
    assert plan.awards[-1] == Award("x5", "industry", "excellence")


def test_a_track_short_of_projects_reports_its_vacancies_from_the_bottom_level_up() -> None:
    plan = allocate_awards(
        cohort({"emergency": 4, "meteorology": 0}),
        {
            "emergency": AwardQuota(1, 1, 3, 3),
            "meteorology": AwardQuota(1, 1, 3, 3),
        },
    )
    given_levels = Counter(a.level for a in plan.awards if a.track == "emergency")
    assert given_levels == Counter({"first": 1, "second": 1, "third": 2})
    assert {(v.track, v.level, v.count) for v in plan.vacancies} == {
        ("emergency", "third", 1),
        ("emergency", "excellence", 3),
        ("meteorology", "first", 1),
        ("meteorology", "second", 1),
        ("meteorology", "third", 3),
        ("meteorology", "excellence", 3),
    }


def test_a_project_listed_twice_is_refused() -> None:
    twice = [Ranked("P1", "industry", 1, False), Ranked("P1", "industry", 2, False)]
    with pytest.raises(AwardRuleError, match="P1"):
        allocate_awards(twice, {"industry": AwardQuota(1, 1, 3, 3)})
    with pytest.raises(AwardRuleError):
        recommend(twice, 28, 3)


def test_28_recommendations_with_one_sme_bring_in_the_two_best_smes_outside() -> None:
    ranked = cohort({"industry": 40}, smes={5, 31, 36, 39})
    result = recommend(ranked, CATALOG.quotas.national_recommendations, CATALOG.quotas.national_sme_minimum)
    assert CATALOG.quotas.national_sme_minimum == 3
    assert [(s.added, s.removed) for s in result.swaps] == [("P031", "P028"), ("P036", "P027")]
    assert len(result.project_ids) == 28 and result.sme_count == 3 and result.sme_shortfall == 0
    assert "P027" not in result.project_ids and result.project_ids[-2:] == ("P031", "P036")


def test_enough_smes_already_means_the_plain_top_28() -> None:
    ranked = cohort({"industry": 35}, smes={1, 2, 3, 33})
    result = recommend(ranked, 28, 3)
    assert result.project_ids == tuple(f"P{n:03d}" for n in range(1, 29)) and result.swaps == ()


def test_too_few_smes_anywhere_is_reported_as_a_shortfall() -> None:
    result = recommend(cohort({"industry": 30}, smes={29}), 28, 3)
    assert result.sme_count == 1 and result.sme_shortfall == 2 and len(result.swaps) == 1


rankings = st.lists(st.booleans(), min_size=0, max_size=60).map(
    lambda flags: [Ranked(f"P{n:03d}", "t", n, sme) for n, sme in enumerate(flags, start=1)]
)


@given(rankings, st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=10))
def test_recommendations_meet_the_floor_with_the_least_loss_of_rank(
    ranked: list[Ranked], count: int, floor: int
) -> None:
    result = recommend(ranked, count, floor)
    chosen = set(result.project_ids)
    smes_available = sum(r.sme for r in ranked)
    assert len(chosen) == min(count, len(ranked))
    assert result.sme_count == min(smes_available, max(floor, sum(r.sme for r in ranked[:count])), len(chosen))
    assert result.sme_shortfall == max(0, min(floor, count) - result.sme_count)
    # Best possible: whoever is left out ranks below everyone of their kind who was taken.
    for kind in (True, False):
        taken = [r.rank for r in ranked if r.sme is kind and r.project_id in chosen]
        left = [r.rank for r in ranked if r.sme is kind and r.project_id not in chosen]
        assert not taken or not left or max(taken) < min(left)


def test_organisation_awards_are_checked_for_blanks_repeats_and_the_limit() -> None:
    assert check_organisation_awards(["沈阳市数据局", "大连市数据局"], 5) == []
    problems = check_organisation_awards(["沈阳市数据局", " 沈阳市数据局", "", "a", "b", "c"], 5)
    assert problems == ["a recipient has no name", "沈阳市数据局: named twice", "6 organisation awards, at most 5"]
