"""How a competition runs its expert review: judges per project, valid scores needed, reminder and escalation
times, normalisation, tie-breaks and the rubric. Fixed before scoring opens; parsed from the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.scoring import DEFAULT_RUBRIC, Dimension, Rubric

TIE_BREAK_RULES = ("earliest_complete",)
QUALIFICATION_DECISIONS = ("pass", "fail", "supplement")
SCREENING_DECISIONS = ("pass", "fail")


class ReviewPolicyError(ValueError):
    """A review section that cannot work; the message names the entry."""


@dataclass(frozen=True)
class ReviewPolicy:
    """The review's fixed rules for one competition (days are scaled in rehearsals)."""

    judges_per_project: int = 5
    min_valid_scores: int = 3
    reminder_days: float = 2.0
    overdue_grace_days: float = 1.0
    reassigned_due_days: float = 2.0
    review_days: float = 5.0
    normalise: bool = False
    tie_breaks: tuple[str, ...] = ("dimension:data_value", "earliest_complete")
    finalist_minimum_per_track: int = 1
    alert_email: str = "organisers@contestflow.localhost"
    rubric: Rubric = DEFAULT_RUBRIC


def _number(raw: Mapping[str, Any], key: str, default: float, minimum: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ReviewPolicyError(f"review.{key}: expected a number ≥ {minimum}, got {value!r}")
    return float(value)


def _rubric(raw: Any) -> Rubric:
    if raw is None:
        return DEFAULT_RUBRIC
    if not isinstance(raw, list) or not raw:
        raise ReviewPolicyError("review.rubric: expected a non-empty list of dimensions")
    dimensions = []
    for i, item in enumerate(raw):
        where = f"review.rubric[{i}]"
        if not isinstance(item, Mapping) or not item.get("code") or not item.get("name"):
            raise ReviewPolicyError(f"{where}: needs a code and a name")
        low, high, weight = item.get("low", 0), item.get("high", 100), item.get("weight", 1)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high, weight)):
            raise ReviewPolicyError(f"{where}: low, high and weight must be numbers")
        if low >= high or weight <= 0:
            raise ReviewPolicyError(f"{where}: needs low < high and a positive weight")
        dimensions.append(Dimension(str(item["code"]), str(item["name"]), float(weight), float(low), float(high)))
    codes = [d.code for d in dimensions]
    if len(set(codes)) != len(codes):
        raise ReviewPolicyError("review.rubric: dimension codes must be unique")
    return Rubric(tuple(dimensions))


def parse_review(raw: Any) -> ReviewPolicy:
    """A ReviewPolicy from the catalog's `review` section (absent: the defaults)."""
    if raw is None:
        return ReviewPolicy()
    if not isinstance(raw, Mapping):
        raise ReviewPolicyError("review: expected a mapping")
    rubric = _rubric(raw.get("rubric"))
    tie_breaks = tuple(str(t) for t in raw.get("tie_breaks", ReviewPolicy.tie_breaks))
    dimension_codes = {d.code for d in rubric.dimensions}
    for rule in tie_breaks:
        if rule not in TIE_BREAK_RULES and rule.removeprefix("dimension:") not in dimension_codes:
            raise ReviewPolicyError(f"review.tie_breaks: '{rule}' is neither earliest_complete nor a rubric dimension")
    policy = ReviewPolicy(
        judges_per_project=int(_number(raw, "judges_per_project", 5, 1)),
        min_valid_scores=int(_number(raw, "min_valid_scores", 3, 1)),
        reminder_days=_number(raw, "reminder_days", 2, 0),
        overdue_grace_days=_number(raw, "overdue_grace_days", 1, 0),
        reassigned_due_days=_number(raw, "reassigned_due_days", 2, 0.001),
        review_days=_number(raw, "review_days", 5, 0.001),
        normalise=bool(raw.get("normalise", False)),
        tie_breaks=tie_breaks,
        finalist_minimum_per_track=int(_number(raw, "finalist_minimum_per_track", 1, 0)),
        alert_email=str(raw.get("alert_email", ReviewPolicy.alert_email)),
        rubric=rubric,
    )
    if policy.min_valid_scores > policy.judges_per_project:
        raise ReviewPolicyError("review.min_valid_scores: more than judges_per_project")
    return policy
