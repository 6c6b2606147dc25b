"""Plain data passed between workflows and activities (no I/O imports, so workflows can use it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.calendar import StageWindow
from domain.eligibility import Violation


@dataclass(frozen=True)
class MailRequest:
    """One mail to one recipient for one milestone of one workflow; (workflow_id, milestone, recipient) is unique."""

    workflow_id: str
    milestone: str
    recipient: str
    template: str
    context: dict[str, str] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        """The business key that makes the mail go out once."""
        return f"{self.workflow_id}/{self.milestone}/{self.recipient.lower()}"


@dataclass(frozen=True)
class MailReceipt:
    """What became of a mail request."""

    message_id: str
    status: str
    newly_sent: bool


@dataclass(frozen=True)
class ProjectEventRecord:
    """One entry of a project's durable log; (project_id, seq) makes the write idempotent."""

    project_id: str
    seq: int
    kind: str
    stage: str
    occurred_at: datetime
    decision: str | None = None
    actor: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class CalendarBroadcast:
    """A new calendar revision for every running project of a competition."""

    competition_code: str
    revision: int
    windows: list[StageWindow]
    moved: list[str] = field(default_factory=list)  # the stages whose windows changed: their teams are mailed
    reason: str = ""


@dataclass(frozen=True)
class BroadcastResult:
    """How many project workflows received a calendar revision."""

    signalled: int
    failed: int


@dataclass(frozen=True)
class EligibilityReport:
    """The rules' verdict on a registered project at one moment."""

    project_id: str
    violations: list[Violation]


@dataclass(frozen=True)
class ReviewerSlot:
    """A judge on a project: their account id, where their mail goes, and their due date."""

    judge: str
    email: str
    due_at: datetime


@dataclass(frozen=True)
class ScoreRow:
    """An accepted score sheet version, for the database the rankings recompute from."""

    project_id: str
    judge: str
    version: int
    values: dict[str, float]
    total: float
    comment: str
    submitted_at: datetime
    round: str = "first_round"


@dataclass(frozen=True)
class ReplacementRequest:
    """Take a judge off a project and find (or take the organiser's) replacement with a new due date."""

    project_id: str
    competition_code: str
    judge: str
    kind: str
    reason: str
    due_at: datetime
    preferred: str | None = None


@dataclass(frozen=True)
class AnnouncementRequest:
    """Tell every live project of a competition its first-round result from one confirmed ranking run."""

    competition_code: str
    run_id: int


@dataclass(frozen=True)
class AnnouncementReport:
    """How many projects were told they advanced, were told they did not, or could not be reached."""

    advanced: int
    not_advanced: int
    unreachable: int


@dataclass(frozen=True)
class FirstRoundResult:
    """The confirmed first-round result for this project, from one ranking run."""

    run_id: int
    advanced: bool
    reason: str
    rank: int | None = None
    score: float | None = None
    reserve: bool | None = None  # in the track's reserve line; None in results from before the line had a length


@dataclass(frozen=True)
class FinalResult:
    """The confirmed final result for this project: its rank overall and in the track, score and award level."""

    run_id: int
    rank: int
    track_rank: int
    score: float
    award: str | None = None


@dataclass(frozen=True)
class RulingRecord:
    """A committee ruling to store on the objection and to tell the objector about (found by the objection's
    number, so their address never enters a workflow history)."""

    objection_id: int
    project_id: str
    ruling: str
    reasons: str
    actor: str
    ruled_at: datetime
    context: dict[str, str] = field(default_factory=dict)
