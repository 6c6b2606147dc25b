"""Assigning judges to projects: K judges each, from the project's track, no conflicts of interest, loads
balanced within caps, deterministic for a seed (HotCRP-style greedy by least load)."""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class JudgeProfile:
    """A judge: tracks of expertise, the units they belong to (with related units), declared conflicts, cap."""

    id: str
    tracks: frozenset[str]
    units: frozenset[str]
    max_load: int
    declared_conflicts: frozenset[str] = frozenset()
    is_representative: bool = False


@dataclass(frozen=True)
class ProjectProfile:
    """A project as assignment sees it: its track and every unit credit code of its team (related ones too)."""

    id: str
    track: str
    units: frozenset[str]


def conflict(judge: JudgeProfile, project: ProjectProfile) -> str | None:
    """The reason a judge may not review a project, or None."""
    if judge.is_representative:
        return "judge_is_representative"
    if judge.units & project.units:
        return "same_or_related_unit"
    if project.id in judge.declared_conflicts or judge.declared_conflicts & project.units:
        return "declared_conflict"
    return None


@dataclass
class AssignmentPlan:
    """Who reviews what, each judge's load, and the projects that could not get K judges."""

    assignments: dict[str, list[str]]
    loads: dict[str, int]
    shortfalls: dict[str, int] = field(default_factory=dict)

    def report(self, judges_per_project: int) -> dict[str, float]:
        """Coverage and load figures for a dry run."""
        covered = sum(1 for v in self.assignments.values() if len(v) >= judges_per_project)
        loads = list(self.loads.values()) or [0]
        return {
            "projects": len(self.assignments),
            "fully_covered": covered,
            "coverage": covered / len(self.assignments) if self.assignments else 1.0,
            "min_load": min(loads),
            "max_load": max(loads),
            "mean_load": sum(loads) / len(loads),
            "missing_reviews": sum(self.shortfalls.values()),
        }


class _Pool:
    """Judges of one track in a heap by (load, seeded tie-break)."""

    def __init__(self, judges: Iterable[JudgeProfile], loads: Mapping[str, int], rng: random.Random) -> None:
        self.heap = [(loads.get(j.id, 0), rng.random(), j) for j in judges if not j.is_representative]
        heapq.heapify(self.heap)

    def take(self, project: ProjectProfile, count: int, exclude: set[str], loads: dict[str, int]) -> list[JudgeProfile]:
        chosen: list[JudgeProfile] = []
        taken = set(exclude)
        skipped = []
        while self.heap and len(chosen) < count:
            load, tie, judge = heapq.heappop(self.heap)
            if load != loads[judge.id]:  # stale entry: the judge was taken elsewhere since
                heapq.heappush(self.heap, (loads[judge.id], tie, judge))
                continue
            if load >= judge.max_load:
                continue  # full: drop from this pool for good
            if judge.id in taken or conflict(judge, project) is not None:
                skipped.append((load, tie, judge))
                continue
            chosen.append(judge)
            taken.add(judge.id)
            loads[judge.id] += 1
            heapq.heappush(self.heap, (loads[judge.id], tie, judge))
        for entry in skipped:
            heapq.heappush(self.heap, entry)
        return chosen


def assign(
    projects: Sequence[ProjectProfile],
    judges: Sequence[JudgeProfile],
    judges_per_project: int,
    seed: int,
    existing: Mapping[str, Sequence[str]] | None = None,
) -> AssignmentPlan:
    """K judges per project from its track's experts, never a conflicted one, least-loaded first."""
    rng = random.Random(seed)
    assignments = {p.id: list((existing or {}).get(p.id, ())) for p in projects}
    loads: dict[str, int] = defaultdict(int)
    for ids in assignments.values():
        for judge_id in ids:
            loads[judge_id] += 1
    for judge in judges:
        loads.setdefault(judge.id, 0)
    by_track: dict[str, list[JudgeProfile]] = defaultdict(list)
    for judge in judges:
        for track in judge.tracks:
            by_track[track].append(judge)
    pools = {track: _Pool(members, loads, rng) for track, members in sorted(by_track.items())}
    order = sorted(projects, key=lambda p: p.id)
    rng.shuffle(order)
    plan = AssignmentPlan(assignments, dict(loads))
    for project in order:
        have = assignments[project.id]
        need = judges_per_project - len(have)
        if need <= 0:
            continue
        pool = pools.get(project.track)
        chosen = pool.take(project, need, set(have), loads) if pool else []
        have.extend(j.id for j in chosen)
        if len(chosen) < need:
            plan.shortfalls[project.id] = need - len(chosen)
    plan.loads = dict(loads)
    return plan


def replacement(
    project: ProjectProfile, current: Sequence[str], judges: Sequence[JudgeProfile], loads: Mapping[str, int]
) -> JudgeProfile | None:
    """The least-loaded eligible judge of the track not already on the project (for a declared conflict or an
    overdue review); None when nobody is free."""
    candidates = [
        j
        for j in judges
        if project.track in j.tracks
        and j.id not in current
        and loads.get(j.id, 0) < j.max_load
        and conflict(j, project) is None
    ]
    # Ties go to the earliest account: ids are numbers in strings, so compare them as numbers ("99" before "100").
    return min(candidates, key=lambda j: (loads.get(j.id, 0), len(j.id), j.id), default=None)
