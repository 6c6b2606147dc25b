"""Inputs, updates and views of the workflows; the API builds and reads these typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from activities.contracts import FirstRoundResult, ReviewerSlot
from domain.calendar import StageWindow
from domain.eligibility import Violation
from domain.scoring import DEFAULT_RUBRIC, Dimension


@dataclass(frozen=True)
class MaterialsState:
    """Whether the submission is complete, what is missing, and a counter that orders updates."""

    complete: bool = False
    missing: list[str] = field(default_factory=list)
    version: int = 0


@dataclass(frozen=True)
class SupplementRequest:
    """Organisers asking the team for more materials by a due date (the database row's id keys it)."""

    request_id: int
    items: list[str]
    due_at: datetime
    actor: str


@dataclass(frozen=True)
class SupplementStatus:
    """A supplement request and where it stands: waiting, fulfilled or overdue."""

    request_id: int
    items: list[str]
    due_at: datetime
    state: str


@dataclass(frozen=True)
class ScoreSubmission:
    """A judge's score sheet for the first round: one value per rubric dimension, and a comment."""

    judge: str
    values: dict[str, float]
    comment: str = ""


@dataclass(frozen=True)
class ScoreRecord:
    """A score sheet as kept: every amendment is a new version; the latest counts."""

    judge: str
    version: int
    values: dict[str, float]
    total: float
    comment: str
    submitted_at: datetime
    round: str = "first_round"


@dataclass(frozen=True)
class ReviewTerms:
    """The competition's reminder and escalation times for this project's judges, and the scores it needs."""

    remind_before_seconds: float
    grace_seconds: float
    reassigned_due_seconds: float
    min_valid_scores: int
    alert_email: str


@dataclass(frozen=True)
class ReviewAssignment:
    """Judges (added to any already on the project) and the terms they review under."""

    reviewers: list[ReviewerSlot]
    terms: ReviewTerms


@dataclass(frozen=True)
class ReviewerState:
    """A judge on the project: due date, state (assigned, submitted, replacing, replaced) and mails sent."""

    judge: str
    email: str
    due_at: datetime
    state: str = "assigned"
    reminded: bool = False
    overdue_mailed: bool = False
    note: str = ""


@dataclass(frozen=True)
class TaskDecision:
    """A qualification check (pass/fail) or a screening verdict (pass/fail with a score and the organisation)."""

    decision: str
    actor: str
    reason: str = ""
    score: float | None = None
    organisation: str = ""


@dataclass(frozen=True)
class TaskRecord:
    """A qualification or screening verdict as the workflow recorded it."""

    kind: str
    decision: str
    actor: str
    reason: str
    decided_at: datetime
    score: float | None = None
    organisation: str = ""


@dataclass(frozen=True)
class ReviewerChange:
    """Take a judge off the project: a declared conflict or an organiser's override (with their pick, or None)."""

    judge: str
    kind: str
    reason: str
    actor: str
    replacement: ReviewerSlot | None = None


@dataclass(frozen=True)
class ReviewerChangeResult:
    """Who left and who (if anyone was free) took over."""

    replaced: str
    replacement: str | None


@dataclass(frozen=True)
class ReviewView:
    """The first round as this project's workflow sees it."""

    phase: str | None
    tasks: list[TaskRecord]
    reviewers: list[ReviewerState]
    valid_scores: int
    result: FirstRoundResult | None


@dataclass(frozen=True)
class ProjectStart:
    """Everything a project workflow needs to run, fixed at registration."""

    project_id: str
    competition_code: str
    competition_name: str
    project_name: str
    team_name: str
    track_code: str
    track_name: str
    problem_code: str
    problem_title: str
    contact_name: str
    contact_email: str
    calendar: list[StageWindow]
    calendar_revision: int = 0
    display_utc_offset_minutes: int = 480
    materials: MaterialsState = field(default_factory=MaterialsState)
    rubric: list[Dimension] = field(default_factory=lambda: list(DEFAULT_RUBRIC.dimensions))
    reminder_before_seconds: float = 3 * 86400  # "registration closes in 3 days", scaled in rehearsals
    committee_email: str = ""  # where reminders about unruled objections go
    committee_reminder_seconds: float = 86400  # how often, once a notice is held open; scaled in rehearsals


@dataclass(frozen=True)
class DecisionRequest:
    """An organiser's decision on the stage the project is in; `stage` guards against acting on a stale view."""

    stage: str
    decision: str
    actor: str
    reason: str = ""


@dataclass(frozen=True)
class DecisionRecord:
    """A decision as the workflow recorded it."""

    stage: str
    decision: str
    actor: str
    reason: str
    decided_at: datetime


@dataclass(frozen=True)
class DecisionResult:
    """What an accepted decision does to the project."""

    stage: str
    decision: str
    effect: str
    decided_at: datetime


@dataclass(frozen=True)
class ProjectStatus:
    """The project as its workflow sees it now."""

    project_id: str
    stage: str
    outcome: str | None
    waiting_on: str | None
    deadline: datetime | None
    overdue: bool
    calendar_revision: int
    calendar: list[StageWindow]
    decisions: list[DecisionRecord] = field(default_factory=list)
    materials: MaterialsState = field(default_factory=MaterialsState)
    violations: list[Violation] = field(default_factory=list)
    supplements: list[SupplementStatus] = field(default_factory=list)
    review_phase: str | None = None


@dataclass(frozen=True)
class ProjectResult:
    """How a project's run ended."""

    project_id: str
    outcome: str
    final_stage: str
    decisions: list[DecisionRecord]


@dataclass(frozen=True)
class CompetitionStart:
    """A competition's workflow input: its code, name and calendar."""

    code: str
    name: str
    calendar: list[StageWindow]
    rehearsal: bool = False
    display_utc_offset_minutes: int = 480


@dataclass(frozen=True)
class StageMove:
    """An organiser moving one stage's window (an extension, say)."""

    stage: str
    opens_at: datetime
    closes_at: datetime
    actor: str
    reason: str
    shift_later: bool = False


@dataclass(frozen=True)
class FinalistsConfirmation:
    """An organiser confirming a previewed ranking run: its finalists are announced to every live project."""

    run_id: int
    digest: str
    actor: str
    finalists: int


@dataclass(frozen=True)
class CalendarView:
    """A competition's calendar at a revision."""

    code: str
    revision: int
    windows: list[StageWindow]


@dataclass(frozen=True)
class ObjectionFiled:
    """A real-name objection the API has checked and stored, handed to the project it is against (no personal
    data: the objector is known to the workflow by the objection's number only)."""

    objection_id: int
    stage: str
    filed_at: datetime
    relation: str


@dataclass(frozen=True)
class ObjectionRuling:
    """The committee's ruling on one objection, with its reasons."""

    objection_id: int
    ruling: str
    reasons: str
    actor: str


@dataclass(frozen=True)
class ObjectionState:
    """One objection as the project's workflow holds it."""

    objection_id: int
    stage: str
    filed_at: datetime
    relation: str
    state: str = "open"
    reasons: str = ""
    actor: str = ""
    ruled_at: datetime | None = None
