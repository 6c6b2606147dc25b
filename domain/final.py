"""The final review (4.决赛评审): the roadshow schedule per track, and the final standing of each finalist from
its roadshow score combined with its first-round score as the competition sets it."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


class FinalRuleError(ValueError):
    """A roadshow plan or final policy that cannot work, with the reason."""


@dataclass(frozen=True)
class FinalPolicy:
    """How the final runs: slot lengths in minutes and the weight of the roadshow score in the final score."""

    presentation_minutes: int = 8
    qa_minutes: int = 5
    changeover_minutes: int = 2
    final_weight: float = 0.7  # the first round's score carries 1 - final_weight


def parse_final(raw: Any) -> FinalPolicy:
    """The catalog's `final` section (every key optional), checked."""
    if raw is None:
        return FinalPolicy()
    if not isinstance(raw, Mapping):
        raise FinalRuleError("final: must be a mapping")
    policy = FinalPolicy(
        presentation_minutes=int(raw.get("presentation_minutes", 8)),
        qa_minutes=int(raw.get("qa_minutes", 5)),
        changeover_minutes=int(raw.get("changeover_minutes", 2)),
        final_weight=float(raw.get("final_weight", 0.7)),
    )
    if policy.presentation_minutes < 1 or policy.qa_minutes < 0 or policy.changeover_minutes < 0:
        raise FinalRuleError("final: presentation needs at least a minute; Q&A and changeover cannot be negative")
    if not 0 <= policy.final_weight <= 1:
        raise FinalRuleError("final.final_weight: must be between 0 and 1")
    return policy


@dataclass(frozen=True)
class Slot:
    """One team's place in its track's roadshow: order, start and end of presentation and Q&A, and the room."""

    project_id: str
    track: str
    order: int
    starts_at: datetime
    qa_at: datetime
    ends_at: datetime
    room: str


def plan_roadshow(
    finalists: Mapping[str, Sequence[str]],
    sessions: Mapping[str, tuple[datetime, str]],
    policy: FinalPolicy,
    seed: int,
    closes_at: datetime,
) -> list[Slot]:
    """Per track, the order drawn by lot (a recorded seed makes it reproducible), then back-to-back slots from the
    track's session start in its room; every slot must end before the final review closes."""
    missing = sorted(set(finalists) - set(sessions))
    if missing:
        raise FinalRuleError(f"no session start and room for track(s): {', '.join(missing)}")
    slots: list[Slot] = []
    step = timedelta(minutes=policy.presentation_minutes + policy.qa_minutes + policy.changeover_minutes)
    for track in sorted(finalists):
        order = sorted(finalists[track])
        random.Random(f"{seed}:{track}").shuffle(order)
        start, room = sessions[track]
        for n, project_id in enumerate(order):
            begins = start + n * step
            qa = begins + timedelta(minutes=policy.presentation_minutes)
            ends = qa + timedelta(minutes=policy.qa_minutes)
            if ends > closes_at:
                raise FinalRuleError(f"track {track}: slot {n + 1} would end after the final review closes")
            slots.append(Slot(project_id, track, n + 1, begins, qa, ends, room))
    return slots


@dataclass(frozen=True)
class FinalStanding:
    """A finalist's final score (combined), its parts, and its rank within the track and overall."""

    project_id: str
    track: str
    final_score: float
    first_round_score: float
    combined: float
    track_rank: int
    overall_rank: int


def final_standings(
    roadshow: Mapping[str, float],
    first_round: Mapping[str, float],
    track_of: Mapping[str, str],
    policy: FinalPolicy,
) -> list[FinalStanding]:
    """Rank every finalist with a roadshow score by combined score; ties go to the higher roadshow score, then the
    higher first-round score, then the project number (recorded in the order, never by chance)."""
    rows = []
    for project_id, score in roadshow.items():
        first = first_round.get(project_id, 0.0)
        combined = round(policy.final_weight * score + (1 - policy.final_weight) * first, 4)
        rows.append((project_id, score, first, combined))
    rows.sort(key=lambda r: (-r[3], -r[1], -r[2], r[0]))
    per_track: dict[str, int] = {}
    standings = []
    for overall, (project_id, score, first, combined) in enumerate(rows, start=1):
        track = track_of[project_id]
        per_track[track] = per_track.get(track, 0) + 1
        standings.append(FinalStanding(project_id, track, score, first, combined, per_track[track], overall))
    return standings
