"""The final ranking from the final panel's sheets: each finalist's roadshow score aggregated as in the first round
(trimmed mean, optionally of per-judge z-scores), combined with its first-round score, ranked, then the awards under
the per-track quotas and the national recommendations with the SME floor. Pure: the same inputs give the same result."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from domain.awards import Ranked, allocate_awards, recommend
from domain.catalog import Quotas
from domain.final import FinalPolicy, final_standings
from domain.ranking import Sheet
from domain.scoring import trimmed_mean, z_scores


def roadshow_scores(
    sheets: Sequence[Sheet], finalists: Mapping[str, str], *, min_valid_scores: int, normalise: bool
) -> tuple[dict[str, float], dict[str, int]]:
    """(project → roadshow score, project → sheets it had when too few to be ranked)."""
    own = [s for s in sheets if s.project_id in finalists]
    adjusted = z_scores([(s.judge, s.project_id, s.total) for s in own]) if normalise else {}
    by_project: dict[str, list[Sheet]] = defaultdict(list)
    for sheet in own:
        by_project[sheet.project_id].append(sheet)
    scores: dict[str, float] = {}
    unranked: dict[str, int] = {}
    for project_id in sorted(finalists):
        mine = by_project.get(project_id, [])
        if len(mine) < min_valid_scores:
            unranked[project_id] = len(mine)
            continue
        values = [adjusted[(s.judge, project_id)] for s in mine] if normalise else [s.total for s in mine]
        scores[project_id] = round(trimmed_mean(values), 4)
    return scores, unranked


def final_result(
    sheets: Sequence[Sheet],
    finalists: Mapping[str, str],
    first_round: Mapping[str, float],
    smes: set[str],
    policy: FinalPolicy,
    quotas: Quotas,
    *,
    min_valid_scores: int,
    normalise: bool,
) -> dict[str, Any]:
    """Standings, unranked finalists, awards with vacancies, and the national recommendations with SME swaps — as
    plain data for the stored ranking run."""
    scores, unranked = roadshow_scores(sheets, finalists, min_valid_scores=min_valid_scores, normalise=normalise)
    standings = final_standings(scores, first_round, finalists, policy)
    ranked = [Ranked(s.project_id, s.track, s.overall_rank, s.project_id in smes) for s in standings]
    plan = allocate_awards(ranked, quotas.awards)
    chosen = recommend(ranked, quotas.national_recommendations, quotas.national_sme_minimum)
    return {
        "standings": [asdict(s) | {"sme": s.project_id in smes} for s in standings],
        "unranked": unranked,
        "awards": [asdict(a) for a in plan.awards],
        "vacancies": [asdict(v) for v in plan.vacancies],
        "recommendations": {
            "projects": list(chosen.project_ids),
            "smes": chosen.sme_count,
            "sme_minimum": quotas.national_sme_minimum,
            "swaps": [asdict(s) for s in chosen.swaps],
            "sme_shortfall": chosen.sme_shortfall,
        },
    }
