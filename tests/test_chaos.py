"""The chaos run's short version (`make chaos` is the long one): a small season on its own embedded stack while the
worker is killed with SIGKILL, the dev server restarted twice on its persistent state and the API once; afterwards
every invariant holds — each project ended as its decisions say, each decision and sheet recorded once, each mail
delivered once, the audit chain intact."""

from __future__ import annotations

import argparse
import shutil
from datetime import UTC, datetime

from bench.chaos import markdown, run
from bench.invariants import outcome_by_rules
from tests.conftest import TEST_DATABASE
from workflows.contracts import DecisionRecord, ProjectResult


async def test_a_small_season_under_kills_and_restarts_loses_nothing_and_does_nothing_twice() -> None:
    args = argparse.Namespace(
        projects=24,
        judges=30,
        concurrency=8,
        workers=1,
        database="sqlite" if TEST_DATABASE == "sqlite" else "postgres",
        kill_every=40.0,
        seed=11,
        keep=0,
    )
    report = await run(args)
    print(markdown(report))
    faults = report["faults"]
    assert faults["worker SIGKILL"] >= 2 and faults["worker restarted"] == faults["worker SIGKILL"]
    assert (faults["temporal restarted"], faults["api restarted"]) == (2, 1)
    failed = [i for i in report["invariants"] if not i["holds"]]
    assert not failed, failed
    assert {i["checked"] > 0 for i in report["invariants"]} == {True}
    shutil.rmtree(report["folder"])  # passed: its logs and databases are not needed (a failure leaves them)


def test_the_outcome_the_rules_give_follows_the_first_negative_decision_else_the_final() -> None:
    def result(*decisions: str) -> ProjectResult:
        records = [
            DecisionRecord("first_round_review", d, "organiser", "", datetime(2025, 6, 1, tzinfo=UTC))
            for d in decisions
        ]
        return ProjectResult("ln-P00001", "", "ceremony", records)

    assert outcome_by_rules(result("advance", "disqualify"), reached_final=True) == "disqualified"
    assert outcome_by_rules(result("withdraw"), reached_final=False) == "withdrawn"
    assert outcome_by_rules(result("advance"), reached_final=True) == "completed"
    assert outcome_by_rules(result(), reached_final=False) == "not_advanced"
