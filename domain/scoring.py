"""Scores: a rubric per competition, weighted totals, trimmed means, optional per-judge z-scores, ranking with
tie-breaks fixed before scoring opens. Pure functions: every result recomputes from the stored scores."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Dimension:
    """One rubric dimension: its weight and the range a judge may give."""

    code: str
    name_zh: str
    weight: float
    low: float = 0
    high: float = 100


@dataclass(frozen=True)
class Rubric:
    """The dimensions of a score; weights need not sum to one (totals are weighted means)."""

    dimensions: tuple[Dimension, ...]

    def problems(self, values: Mapping[str, float]) -> list[str]:
        """Every reason a score sheet is unacceptable: a missing, unknown or out-of-range dimension."""
        known = {d.code: d for d in self.dimensions}
        found = [f"missing:{d}" for d in known if d not in values]
        found += [f"unknown:{k}" for k in values if k not in known]
        found += [
            f"out_of_range:{k}" for k, v in values.items() if k in known and not known[k].low <= v <= known[k].high
        ]
        return found

    def total(self, values: Mapping[str, float]) -> float:
        """The weighted mean of a complete, valid sheet."""
        weight = sum(d.weight for d in self.dimensions)
        return sum(d.weight * values[d.code] for d in self.dimensions) / weight


DEFAULT_RUBRIC = Rubric(
    (
        Dimension("innovation", "创新性", 0.2),
        Dimension("data_value", "数据要素价值", 0.3),
        Dimension("application", "应用成效", 0.25),
        Dimension("business_model", "商业模式", 0.15),
        Dimension("team", "团队能力", 0.1),
    )
)


def trimmed_mean(scores: Sequence[float]) -> float:
    """Drop the highest and the lowest when there are at least five; the plain mean otherwise."""
    if not scores:
        raise ValueError("no scores")
    ordered = sorted(scores)
    kept = ordered[1:-1] if len(ordered) >= 5 else ordered
    return sum(kept) / len(kept)


def z_scores(sheets: Sequence[tuple[str, str, float]]) -> dict[tuple[str, str], float]:
    """Per-judge normalisation: (judge, project) → z of that judge's total among all they scored, rescaled to the
    overall mean and spread so adjusted scores stay on the rubric's scale."""
    by_judge: dict[str, list[float]] = defaultdict(list)
    for judge, _, total in sheets:
        by_judge[judge].append(total)
    everything = [t for _, _, t in sheets]
    mean, spread = statistics.fmean(everything), statistics.pstdev(everything) or 1.0
    adjusted = {}
    for judge, project, total in sheets:
        own = by_judge[judge]
        own_spread = statistics.pstdev(own) or 1.0
        adjusted[(judge, project)] = mean + spread * (total - statistics.fmean(own)) / own_spread
    return adjusted


@dataclass(frozen=True)
class RankEntry:
    """A project's standing: its aggregate, dimension means for tie-breaks, when its submission became complete."""

    project_id: str
    track: str
    score: float
    dimension_means: Mapping[str, float]
    completed_at: datetime


@dataclass(frozen=True)
class Ranked:
    """A place in a ranking, and the tie-break rule that decided it against the entry above, if one did."""

    project_id: str
    track: str
    rank: int
    score: float
    decided_by: str | None


def _key(entry: RankEntry, tie_breaks: Sequence[str]) -> tuple[float, ...]:
    key: list[float] = [-round(entry.score, 9)]
    for rule in tie_breaks:
        if rule == "earliest_complete":
            key.append(entry.completed_at.timestamp())
        else:
            key.append(-round(entry.dimension_means.get(rule.removeprefix("dimension:"), 0.0), 9))
    return tuple(key)


def rank(entries: Sequence[RankEntry], tie_breaks: Sequence[str]) -> list[Ranked]:
    """Best first; equal scores are ordered by the tie-break rules in turn (`dimension:<code>`, then
    `earliest_complete`), the project id last so the order is total. Each place records the rule that decided it."""
    ordered = sorted(entries, key=lambda e: (*_key(e, tie_breaks), e.project_id))
    ranked: list[Ranked] = []
    for place, entry in enumerate(ordered, start=1):
        decided_by = None
        if ranked and round(ordered[place - 2].score, 9) == round(entry.score, 9):
            above, mine = _key(ordered[place - 2], tie_breaks), _key(entry, tie_breaks)
            decided_by = next(
                (rule for rule, a, b in zip(tie_breaks, above[1:], mine[1:], strict=True) if a != b), "project_id"
            )
        ranked.append(Ranked(entry.project_id, entry.track, place, entry.score, decided_by))
    return ranked


def rank_by_track(entries: Sequence[RankEntry], tie_breaks: Sequence[str]) -> dict[str, list[Ranked]]:
    """One ranking per track (ranks restart at 1 in each)."""
    tracks: dict[str, list[RankEntry]] = defaultdict(list)
    for entry in entries:
        tracks[entry.track].append(entry)
    return {track: rank(members, tie_breaks) for track, members in sorted(tracks.items())}
