"""The first round's ranking from stored score sheets: aggregate each project (trimmed mean, optionally of
per-judge z-scores), rank per track and overall with the competition's tie-breaks, allocate the finalists'
places per track, and give every live project its outcome. Pure: the same sheets give the same result."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import finalists
from domain.scoring import Ranked, RankEntry, rank, rank_by_track, trimmed_mean, z_scores


@dataclass(frozen=True)
class Sheet:
    """The latest valid score sheet of one judge for one project."""

    project_id: str
    judge: str
    version: int
    total: float
    values: Mapping[str, float]


@dataclass(frozen=True)
class Allocation:
    """How the finalists' places are split: `fixed` counts per track, or `proportional` with a minimum."""

    mode: str
    total: int
    minimum: int = 0
    counts: Mapping[str, int] | None = None


def digest(sheets: Sequence[Sheet], parameters: Mapping[str, Any]) -> str:
    """A fingerprint of the inputs: a confirmation is refused when the scores changed since the preview."""
    rows = sorted((s.project_id, s.judge, s.version, round(s.total, 6)) for s in sheets)
    text = json.dumps([rows, parameters], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def compute(
    sheets: Sequence[Sheet],
    live: Mapping[str, str],
    completed_at: Mapping[str, datetime],
    *,
    min_valid_scores: int,
    normalise: bool,
    tie_breaks: Sequence[str],
    allocation: Allocation,
) -> dict[str, Any]:
    """Rankings, allocation, finalists and an outcome for every live project (project id → track)."""
    by_project: dict[str, list[Sheet]] = defaultdict(list)
    for sheet in sheets:
        if sheet.project_id in live:
            by_project[sheet.project_id].append(sheet)
    adjusted = z_scores([(s.judge, s.project_id, s.total) for s in sheets if s.project_id in live]) if normalise else {}
    entries: list[RankEntry] = []
    figures: dict[str, dict[str, Any]] = {}
    unranked: dict[str, int] = {}
    for project_id, track in sorted(live.items()):
        own = by_project.get(project_id, [])
        if len(own) < min_valid_scores:
            unranked[project_id] = len(own)
            continue
        raw = trimmed_mean([s.total for s in own])
        adj = trimmed_mean([adjusted[(s.judge, project_id)] for s in own]) if normalise else None
        dims = {k: statistics.fmean(s.values[k] for s in own) for k in own[0].values}
        entries.append(RankEntry(project_id, track, adj if adj is not None else raw, dims, completed_at[project_id]))
        figures[project_id] = {
            "raw": round(raw, 4),
            "adjusted": None if adj is None else round(adj, 4),
            "judges": len(own),
        }
    tracks = rank_by_track(entries, tie_breaks)
    overall = rank(entries, tie_breaks)
    ranked_per_track = {t: len(r) for t, r in tracks.items()} | {t: 0 for t in set(live.values()) - set(tracks)}
    if allocation.mode == "fixed":
        places = finalists.fixed(allocation.counts or {}, ranked_per_track, allocation.total)
    else:
        places = finalists.proportional(ranked_per_track, allocation.total, allocation.minimum)
    chosen = {r.project_id for r in finalists.select(tracks, places)}
    overall_rank = {r.project_id: r.rank for r in overall}
    outcomes = []
    for track, ranked in tracks.items():
        line = reserve_line(ranked, chosen, places.get(track, 0))
        for r in ranked:
            advanced = r.project_id in chosen
            reason = (
                f"track rank {r.rank} of {len(ranked)}, within the track's {places.get(track, 0)} places"
                if advanced
                else f"track rank {r.rank} of {len(ranked)}, below the track's {places.get(track, 0)} places"
            )
            if r.project_id in line:
                reason += f"; reserve {line[r.project_id]} of {len(line)}"
            outcomes.append(_outcome(r, advanced, reason, r.project_id in line))
    for project_id, count in unranked.items():
        reason = f"not ranked: {count} valid scores, {min_valid_scores} needed"
        outcomes.append(
            {
                "project_id": project_id,
                "advanced": False,
                "rank": None,
                "score": None,
                "reason": reason,
                "reserve": False,
            }
        )
    return {
        "tracks": {t: [_row(r, figures[r.project_id], overall_rank) for r in ranked] for t, ranked in tracks.items()},
        "allocation": places,
        "finalists": sorted(chosen),
        "unranked": unranked,
        "tie_breaks": list(tie_breaks),
        "tie_break_uses": [
            {"project_id": r.project_id, "track": r.track, "rule": r.decided_by}
            for ranked in tracks.values()
            for r in ranked
            if r.decided_by
        ],
        "outcomes": outcomes,
    }


def _row(r: Ranked, figures: Mapping[str, Any], overall_rank: Mapping[str, int]) -> dict[str, Any]:
    return {
        "project_id": r.project_id,
        "rank": r.rank,
        "overall_rank": overall_rank[r.project_id],
        "score": round(r.score, 4),
        "decided_by": r.decided_by,
        **figures,
    }


def reserve_line(ranked: Sequence[Ranked], chosen: set[str], places: int) -> dict[str, int]:
    """The track's reserve: its best-ranked projects that missed the finalists, as many as the track has places, so
    every place can be refilled once (project id → position in the line). The rest of the track is told it did not
    advance and ends there, instead of waiting out the first public notice."""
    missed = sorted((r for r in ranked if r.project_id not in chosen), key=lambda r: (r.rank, r.project_id))
    return {r.project_id: n for n, r in enumerate(missed[:places], start=1)}


def _outcome(r: Ranked, advanced: bool, reason: str, reserve: bool) -> dict[str, Any]:
    return {
        "project_id": r.project_id,
        "advanced": advanced,
        "rank": r.rank,
        "score": round(r.score, 4),
        "reason": reason,
        "reserve": reserve,
    }
