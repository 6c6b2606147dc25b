"""Each eligibility rule: one entry it accepts and one it rejects, with its own code and clause."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from domain.eligibility import (
    RULES,
    EntryFacts,
    Listing,
    ListKind,
    Relation,
    UnitFacts,
    UnitKind,
    evaluate,
    problem_change,
    project_rename,
    representatives_change,
)

LEAD = UnitFacts(
    "91210100MA0Q000011",
    "沈阳数智科技有限公司",
    UnitKind.ENTERPRISE,
    True,
    related=(("91210100MA0PARENT1", Relation.PARENT),),
)
PARTNER = UnitFacts("12210000MB0000002X", "辽宁某大学", UnitKind.UNIVERSITY, True)
GOOD = EntryFacts(
    track_code="industry",
    units=(LEAD, PARTNER),
    representatives=5,
    max_representatives=5,
    public_sector_tracks=("city_governance", "meteorology", "emergency"),
)

Breaker = Callable[[EntryFacts], EntryFacts]


def _listed_on(kind: ListKind) -> Breaker:
    def breaker(facts: EntryFacts) -> EntryFacts:
        return replace(facts, listings=(Listing(PARTNER.credit_code, kind),))

    return breaker


CASES: dict[str, Breaker] = {
    "registration_closed": lambda f: replace(f, registration_open=False),
    "not_independent_legal_person": lambda f: replace(
        f, units=(LEAD, replace(PARTNER, independent_legal_person=False))
    ),
    **{f"listed_{k.value}": _listed_on(k) for k in ListKind},
    "organiser_related": lambda f: replace(f, organiser_affiliates=frozenset({"91210100MA0PARENT1"})),
    "public_sector_track": lambda f: replace(f, units=(replace(LEAD, kind=UnitKind.PUBLIC_INSTITUTION),)),
    "too_many_representatives": lambda f: replace(f, representatives=6),
    "representative_elsewhere": lambda f: replace(f, representatives_elsewhere=("2101**********0011",)),
    "team_second_project": lambda f: replace(f, team_has_project=True),
    "team_second_competition": lambda f: replace(f, team_in_other_competition="js-2025"),
}


def test_every_rule_has_a_case() -> None:
    assert {r.code for r in RULES} == set(CASES)


def test_a_clean_entry_passes_every_rule() -> None:
    assert evaluate(GOOD) == []


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_rejects_with_its_code_and_clause(code: str) -> None:
    violations = evaluate(CASES[code](GOOD))
    assert [v.code for v in violations] == [code]
    clause = next(r.clause for r in RULES if r.code == code)
    assert clause in violations[0].zh and clause in violations[0].en


def test_public_sector_units_may_enter_their_three_tracks() -> None:
    public = replace(GOOD, units=(replace(LEAD, kind=UnitKind.GOVERNMENT_DEPARTMENT),))
    assert [v.code for v in evaluate(public)] == ["public_sector_track"]
    for track in ("city_governance", "meteorology", "emergency"):
        assert evaluate(replace(public, track_code=track)) == []


def test_the_unit_itself_on_the_organiser_list_is_refused_too() -> None:
    facts = replace(GOOD, organiser_affiliates=frozenset({LEAD.credit_code}))
    assert [(v.code, v.subject) for v in evaluate(facts)] == [("organiser_related", LEAD.credit_code)]


def test_listings_of_units_not_in_the_team_are_ignored() -> None:
    assert evaluate(replace(GOOD, listings=(Listing("91110000100010433L", ListKind.DISHONEST_EXECUTED),))) == []


def test_changes_that_are_never_or_no_longer_allowed() -> None:
    assert problem_change().code == "problem_locked"
    assert project_rename().code == "name_locked"
    assert representatives_change(registration_closed=False) is None
    locked = representatives_change(registration_closed=True)
    assert locked is not None and locked.code == "representatives_locked"
