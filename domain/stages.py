"""The stages a project passes through, in the notice's order, and what may be decided in each."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    """A stage of the competition, named as in the notice (赛程安排)."""

    REGISTRATION = "registration"
    FIRST_ROUND_REVIEW = "first_round_review"
    TECHNICAL_VERIFICATION = "technical_verification"
    FIRST_PUBLIC_NOTICE = "first_public_notice"
    FINAL_REVIEW = "final_review"
    FINAL_PUBLIC_NOTICE = "final_public_notice"
    AWARD = "award"
    CEREMONY = "ceremony"


class Outcome(StrEnum):
    """How a project's run ends."""

    COMPLETED = "completed"
    NOT_SUBMITTED = "not_submitted"
    NOT_ADVANCED = "not_advanced"
    DISQUALIFIED = "disqualified"
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    """An organiser's decision on a project in its current stage."""

    ADVANCE = "advance"
    REJECT = "reject"
    DISQUALIFY = "disqualify"
    WITHDRAW = "withdraw"


DECISION_OUTCOMES: dict[Decision, Outcome] = {
    Decision.REJECT: Outcome.NOT_ADVANCED,
    Decision.DISQUALIFY: Outcome.DISQUALIFIED,
    Decision.WITHDRAW: Outcome.WITHDRAWN,
}


@dataclass(frozen=True)
class StageRule:
    """What a stage allows: its decisions, and whether it passes by itself when its window closes."""

    stage: Stage
    name_zh: str
    name_en: str
    decisions: frozenset[Decision]
    passes_at_close: bool
    waiting_on: str


_ANY = frozenset({Decision.ADVANCE, Decision.REJECT, Decision.DISQUALIFY, Decision.WITHDRAW})
_OBJECTION_ONLY = frozenset({Decision.DISQUALIFY, Decision.WITHDRAW})

STAGE_RULES: tuple[StageRule, ...] = (
    StageRule(Stage.REGISTRATION, "启动报名", "registration", _OBJECTION_ONLY, True, "team"),
    StageRule(Stage.FIRST_ROUND_REVIEW, "初赛评审", "first-round review", _ANY, False, "judges"),
    StageRule(
        Stage.TECHNICAL_VERIFICATION,
        "技术验证",
        "technical verification",
        frozenset({Decision.ADVANCE, Decision.DISQUALIFY, Decision.WITHDRAW}),
        False,
        "verifiers",
    ),
    StageRule(Stage.FIRST_PUBLIC_NOTICE, "初赛公示", "first public notice", _OBJECTION_ONLY, True, "public"),
    StageRule(Stage.FINAL_REVIEW, "决赛评审", "final review", _ANY, False, "judges"),
    StageRule(Stage.FINAL_PUBLIC_NOTICE, "决赛公示", "final public notice", _OBJECTION_ONLY, True, "public"),
    StageRule(Stage.AWARD, "奖项确认", "award", _OBJECTION_ONLY, True, "organiser"),
    StageRule(Stage.CEREMONY, "颁奖仪式", "award ceremony", _OBJECTION_ONLY, True, "organiser"),
)

RULES_BY_STAGE: dict[Stage, StageRule] = {rule.stage: rule for rule in STAGE_RULES}
STAGE_ORDER: tuple[Stage, ...] = tuple(rule.stage for rule in STAGE_RULES)

# Stages whose dates the catalog states; the award stage runs from the final notice's close to the ceremony.
SCHEDULED_STAGES: tuple[Stage, ...] = tuple(s for s in STAGE_ORDER if s is not Stage.AWARD)


def rule_for(stage: Stage) -> StageRule:
    """The rule of one stage."""
    return RULES_BY_STAGE[stage]
