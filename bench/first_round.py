"""Time judge assignment (25,000 projects x 5 judges over 1,000 judges) and ranking of 25,000 projects."""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.report import publish
from domain.assignment import JudgeProfile, ProjectProfile, assign
from domain.scoring import RankEntry, rank_by_track, trimmed_mean

TRACKS = (
    "industry",
    "agriculture",
    "transport",
    "sci_tech",
    "culture_tourism",
    "medical_security",
    "emergency",
    "meteorology",
    "city_governance",
    "comprehensive",
)


def world(projects: int, judges: int, seed: int) -> tuple[list[ProjectProfile], list[JudgeProfile]]:
    """Projects spread over the tracks with 1-3 units each; judges expert in 1-3 tracks, some conflicted."""
    rng = random.Random(seed)
    units = [f"U{i:06d}" for i in range(projects)]
    project_list = [
        ProjectProfile(f"P{i:06d}", rng.choice(TRACKS), frozenset(rng.sample(units, rng.randint(1, 3))))
        for i in range(projects)
    ]
    cap = max(1, (projects * 5 * 2) // judges)
    judge_list = [
        JudgeProfile(
            f"J{i:05d}",
            frozenset(rng.sample(TRACKS, rng.randint(1, 3))),
            frozenset(rng.sample(units, 2)),
            cap,
            frozenset(rng.sample([p.id for p in project_list[:1000]], 1)),
        )
        for i in range(judges)
    ]
    return project_list, judge_list


def assign_and_rank(projects: int, judges: int, per_project: int) -> dict[str, Any]:
    """Assign `per_project` judges to every project, then rank every track: the seconds each took, and the plan's
    report."""
    project_list, judge_list = world(projects, judges, seed=1)
    started = time.perf_counter()
    plan = assign(project_list, judge_list, per_project, seed=42)
    assign_seconds = time.perf_counter() - started

    rng = random.Random(2)
    t0 = datetime(2025, 7, 18, tzinfo=UTC)
    started = time.perf_counter()
    entries = [
        RankEntry(
            p.id,
            p.track,
            trimmed_mean([rng.uniform(50, 100) for _ in ids]) if ids else 0.0,
            {"data_value": rng.uniform(50, 100)},
            t0 - timedelta(minutes=rng.randint(0, 60_000)),
        )
        for p in project_list
        for ids in [plan.assignments[p.id]]
    ]
    rankings = rank_by_track(entries, ["dimension:data_value", "earliest_complete"])
    rank_seconds = time.perf_counter() - started
    return {
        "projects": projects,
        "judges": judges,
        "judges_per_project": per_project,
        "assign_seconds": round(assign_seconds, 3),
        "rank_seconds": round(rank_seconds, 3),
        "tracks_ranked": len(rankings),
        **plan.report(per_project),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=25_000)
    parser.add_argument("--judges", type=int, default=1_000)
    parser.add_argument("--per-project", type=int, default=5)
    args = parser.parse_args()
    publish(f"first_round-{args.projects}", assign_and_rank(args.projects, args.judges, args.per_project))


if __name__ == "__main__":
    main()
