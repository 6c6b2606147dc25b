"""Awards and national recommendations from a final ranking: per-track quotas with vacancies reported, and the
28 recommendations with the SME floor (best-ranked SMEs replace the lowest-ranked non-SMEs when short)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.catalog import AwardQuota

LEVELS = ("first", "second", "third", "excellence")
LEVEL_NAMES = {"first": "一等奖", "second": "二等奖", "third": "三等奖", "excellence": "优秀奖"}
LEVEL_NAMES_EN = {
    "first": "First Prize",
    "second": "Second Prize",
    "third": "Third Prize",
    "excellence": "Excellence Award",
}


@dataclass(frozen=True)
class Ranked:
    """A project that stands for an award: its track, its final rank (1 = best, overall) and whether an SME."""

    project_id: str
    track: str
    rank: int
    sme: bool


@dataclass(frozen=True)
class Award:
    """One award given: the level within the track."""

    project_id: str
    track: str
    level: str


@dataclass(frozen=True)
class Vacancy:
    """Awards of one level a track cannot give for want of eligible projects."""

    track: str
    level: str
    count: int


@dataclass(frozen=True)
class AwardPlan:
    """Every award given, and every place left vacant."""

    awards: tuple[Award, ...]
    vacancies: tuple[Vacancy, ...]


@dataclass(frozen=True)
class Swap:
    """An SME brought into the recommendations in place of a lower-ranked non-SME."""

    added: str
    removed: str


@dataclass(frozen=True)
class Recommendation:
    """The national recommendations in rank order, the swaps the SME floor caused, and any shortfall left."""

    project_ids: tuple[str, ...]
    swaps: tuple[Swap, ...]
    sme_count: int
    sme_shortfall: int


class AwardRuleError(ValueError):
    """The input breaks a rule the award plan depends on (a project listed twice)."""


def allocate_awards(ranked: Sequence[Ranked], quotas: Mapping[str, AwardQuota]) -> AwardPlan:
    """Each track gives its levels top down to its projects in rank order; what it cannot fill is a vacancy."""
    _check_unique(ranked)
    by_track: dict[str, list[Ranked]] = {}
    for entry in sorted(ranked, key=lambda r: (r.rank, r.project_id)):
        by_track.setdefault(entry.track, []).append(entry)
    awards: list[Award] = []
    vacancies: list[Vacancy] = []
    for track in sorted(quotas):
        queue = by_track.get(track, [])
        position = 0
        for level in LEVELS:
            wanted = int(getattr(quotas[track], level))
            given = queue[position : position + wanted]
            position += len(given)
            awards.extend(Award(r.project_id, track, level) for r in given)
            if len(given) < wanted:
                vacancies.append(Vacancy(track, level, wanted - len(given)))
    return AwardPlan(tuple(awards), tuple(vacancies))


def recommend(ranked: Sequence[Ranked], count: int, sme_minimum: int) -> Recommendation:
    """The best `count` by rank; if fewer than `sme_minimum` are SMEs, the best-ranked SMEs left out replace the
    lowest-ranked non-SMEs taken, one for one, until the floor is met or no SME is left."""
    _check_unique(ranked)
    ordered = sorted(ranked, key=lambda r: (r.rank, r.project_id))
    chosen = ordered[:count]
    waiting_smes = [r for r in ordered[count:] if r.sme]
    swaps: list[Swap] = []
    while sum(r.sme for r in chosen) < sme_minimum and waiting_smes:
        lowest = max((r for r in chosen if not r.sme), key=lambda r: (r.rank, r.project_id), default=None)
        if lowest is None:
            break
        incoming = waiting_smes.pop(0)
        chosen = [incoming if r is lowest else r for r in chosen]
        swaps.append(Swap(incoming.project_id, lowest.project_id))
    chosen.sort(key=lambda r: (r.rank, r.project_id))
    smes = sum(r.sme for r in chosen)
    return Recommendation(
        tuple(r.project_id for r in chosen), tuple(swaps), smes, max(0, min(sme_minimum, count) - smes)
    )


def _check_unique(ranked: Sequence[Ranked]) -> None:
    seen: set[str] = set()
    for entry in ranked:
        if entry.project_id in seen:
            raise AwardRuleError(f"{entry.project_id}: listed twice")
        seen.add(entry.project_id)


def check_organisation_awards(recipients: Sequence[str], limit: int) -> list[str]:
    """Problems with the organiser's organisation awards (units or cities): blanks, repeats, more than the limit."""
    problems: list[str] = []
    names = [r.strip() for r in recipients]
    if any(not n for n in names):
        problems.append("a recipient has no name")
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    problems.extend(f"{n}: named twice" for n in repeated)
    if len(names) > limit:
        problems.append(f"{len(names)} organisation awards, at most {limit}")
    return problems
