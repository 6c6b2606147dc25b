"""Custom search attributes (prefix `Contest`) that make projects findable in the Temporal Web UI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

COMPETITION = SearchAttributeKey.for_keyword("ContestCompetition")
STAGE = SearchAttributeKey.for_keyword("ContestStage")
TRACK = SearchAttributeKey.for_keyword("ContestTrack")
PROBLEM = SearchAttributeKey.for_keyword("ContestProblem")
OUTCOME = SearchAttributeKey.for_keyword("ContestOutcome")
WAITING_ON = SearchAttributeKey.for_keyword("ContestWaitingOn")
DEADLINE = SearchAttributeKey.for_datetime("ContestDeadline")
OVERDUE = SearchAttributeKey.for_bool("ContestOverdue")
SME = SearchAttributeKey.for_bool("ContestSme")
FINALIST = SearchAttributeKey.for_bool("ContestFinalist")
SCORE = SearchAttributeKey.for_float("ContestScore")

ALL_KEYS: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    COMPETITION,
    STAGE,
    TRACK,
    PROBLEM,
    OUTCOME,
    WAITING_ON,
    DEADLINE,
    OVERDUE,
    SME,
    FINALIST,
    SCORE,
)


CLI_TYPE_NAMES = {
    "KEYWORD": "Keyword",
    "DATETIME": "Datetime",
    "BOOL": "Bool",
    "INT": "Int",
    "DOUBLE": "Double",
    "TEXT": "Text",
    "KEYWORD_LIST": "KeywordList",
}


def cli_type(key: SearchAttributeKey) -> str:  # type: ignore[type-arg]
    """The type name the `temporal` CLI uses for a key (`Keyword`, `Datetime`, ...)."""
    return CLI_TYPE_NAMES[key.indexed_value_type.name]


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags that register every key on `temporal server start-dev`."""
    return [flag for key in ALL_KEYS for flag in ("--search-attribute", f"{key.name}={cli_type(key)}")]
