"""Updates and views of the stages after the first round: technical verification and promotion from the reserve."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class VerificationPlan:
    """The organiser's choice for a finalist: a written pledge, or an on-site visit by a named verifier."""

    method: str
    actor: str
    verifier: str = ""
    verifier_email: str = ""
    visit_at: datetime | None = None


@dataclass(frozen=True)
class PledgeReceived:
    """The team's signed pledge, stored by the API (the workflow keeps its content address only)."""

    sha256: str
    filename: str
    actor: str


@dataclass(frozen=True)
class VerificationReport:
    """A verifier's (or, for a pledge, the organiser's) verdict per aspect, findings and, when conditional, the
    remediation due date."""

    verdicts: dict[str, str]
    findings: str
    actor: str
    remediation_due: datetime | None = None


@dataclass(frozen=True)
class FiledReport:
    """A report as the workflow recorded it, with its overall verdict."""

    verdicts: dict[str, str]
    overall: str
    findings: str
    actor: str
    filed_at: datetime
    remediation_due: datetime | None = None


@dataclass(frozen=True)
class RemediationDone:
    """The team's word that a conditional verdict's remediation is done, for the verifier to re-check."""

    note: str
    actor: str


@dataclass(frozen=True)
class VerificationView:
    """Technical verification as the project's workflow sees it."""

    phase: str
    method: str | None = None
    verifier: str = ""
    verifier_email: str = ""
    visit_at: datetime | None = None
    pledge: PledgeReceived | None = None
    reports: list[FiledReport] = field(default_factory=list)
    remediation: RemediationDone | None = None


@dataclass(frozen=True)
class Promotion:
    """A reserve project promoted into the finalists in place of one that failed verification or was
    disqualified."""

    candidate: str
    replaces: str
    track: str
    actor: str
    reason: str


@dataclass(frozen=True)
class RoadshowSlot:
    """A finalist's place in its track's roadshow (a re-planned schedule carries a higher version)."""

    project_id: str
    track: str
    order: int
    starts_at: datetime
    qa_at: datetime
    ends_at: datetime
    room: str
    presentation_minutes: int
    qa_minutes: int
    version: int


@dataclass(frozen=True)
class CeremonyInvitation:
    """The ceremony's time and place for an awarded project, and where its certificate is (a change of time or
    place is a new version, mailed again)."""

    starts_at: datetime
    venue: str
    version: int
    certificate_url: str
