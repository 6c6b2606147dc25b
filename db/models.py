"""SQLAlchemy models of competitions, the catalog, registrations and the project event log (the mail outbox is
in db/outbox.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with timezone-aware datetimes everywhere."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Competition(Base):
    """One sub-competition, created from a catalog file."""

    __tablename__ = "competitions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    rehearsal: Mapped[bool] = mapped_column(default=False)
    edition: Mapped[str] = mapped_column(String(64), default="", server_default="", index=True)
    time_scale: Mapped[float] = mapped_column(default=1.0, server_default="1")
    project_counter: Mapped[int] = mapped_column(default=0)
    catalog: Mapped[dict[str, Any]] = mapped_column(JSON)
    calendar: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Track(Base):
    """A track of one competition."""

    __tablename__ = "tracks"
    __table_args__ = (UniqueConstraint("competition_code", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    guiding_units: Mapped[list[Any]] = mapped_column(JSON)


class Problem(Base):
    """A problem of one track."""

    __tablename__ = "problems"
    __table_args__ = (UniqueConstraint("competition_code", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    track_code: Mapped[str] = mapped_column(String(64))
    group_code: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


class Unit(Base):
    """A legal entity that enters (lead or partner unit), keyed by its unified social credit code."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    is_sme: Mapped[bool] = mapped_column(default=False)
    independent_legal_person: Mapped[bool] = mapped_column(default=True, server_default="1")


class UnitRelation(Base):
    """A unit's declared parent, subsidiary, holding company or branch (for the organiser-affiliation rule)."""

    __tablename__ = "unit_relations"
    __table_args__ = (UniqueConstraint("unit_id", "related_credit_code", "relation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    related_credit_code: Mapped[str] = mapped_column(String(18))
    related_name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(16))


class TeamUnit(Base):
    """A unit of a team: its lead unit or a partner."""

    __tablename__ = "team_units"
    __table_args__ = (UniqueConstraint("team_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))


class CreditListing(Base):
    """A unit on a dishonest list, as imported by organisers (the local credit registry)."""

    __tablename__ = "credit_listings"
    __table_args__ = (UniqueConstraint("credit_code", "list_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    list_kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrganiserAffiliate(Base):
    """An organising body or one of its branches, subsidiaries, holding companies or parents."""

    __tablename__ = "organiser_affiliates"

    credit_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApplicationVersion(Base):
    """One version of the application (项目申报书): its five sections."""

    __tablename__ = "application_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    sections: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_by: Mapped[str] = mapped_column(String(254))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplementRequest(Base):
    """Organisers asking a team for more materials by a due date."""

    __tablename__ = "supplement_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    items: Mapped[list[Any]] = mapped_column(JSON)
    due_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    fulfilled_at: Mapped[datetime | None]


class Team(Base):
    """A team of one lead unit in one competition; it submits exactly one project."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("competition_code", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_email: Mapped[str] = mapped_column(String(254))
    representatives_locked_at: Mapped[datetime | None]


class Representative(Base):
    """A person who represents one team (at most five per team)."""

    __tablename__ = "representatives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    id_number_encrypted: Mapped[str] = mapped_column(String(200))
    id_number_index: Mapped[str] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    phone_encrypted: Mapped[str] = mapped_column(String(200))
    phone_masked: Mapped[str] = mapped_column(String(20))


class Project(Base):
    """A registered project; its id is also its workflow id."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("competition_code", "number"), UniqueConstraint("team_id"))

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    track_code: Mapped[str] = mapped_column(String(64))
    problem_code: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectEvent(Base):
    """One entry of a project's durable log (stage entered, decision taken, outcome), written by its workflow."""

    __tablename__ = "project_events"
    __table_args__ = (UniqueConstraint("project_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(String(100), index=True)
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]


class Account(Base):
    """Someone who signs in: an organiser, track working group member, judge, verifier, committee member or team."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    tracks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionToken(Base):
    """A login session: the SHA-256 of its bearer token, and when it expires."""

    __tablename__ = "session_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A long-lived machine key: looked up by its id, verified by the argon2 hash of its secret."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed login, counted to rate-limit guessing (shared by every API process)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(254), index=True)
    client: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Assignment(Base):
    """A judge or verifier assigned to a project; what lets them see it."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("project_id", "account_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="assigned", server_default="assigned", index=True)
    due_at: Mapped[datetime | None]
    replaces_account_id: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime | None]


class Score(Base):
    """One version of a judge's score sheet, written by the project's workflow once it accepted it."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("project_id", "judge_account_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    judge_account_id: Mapped[int] = mapped_column(index=True)
    version: Mapped[int]
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[float]
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime]
    round: Mapped[str] = mapped_column(String(32), default="first_round", server_default="first_round")


class RankingRun(Base):
    """A computed ranking with its parameters and finalists: previewed, then confirmed once by an organiser."""

    __tablename__ = "ranking_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code", ondelete="CASCADE"), index=True)
    round: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_by: Mapped[str | None] = mapped_column(String(254))
    confirmed_at: Mapped[datetime | None]


class AuditRecord(Base):
    """One act in the append-only, hash-chained audit trail (database triggers refuse updates and deletes)."""

    __tablename__ = "audit_log"
    # An object's acts of one kind (the idempotency check of every repeatable request): SQLite without statistics
    # otherwise searched by `action` alone, reading every sheet ever submitted for each new one.
    __table_args__ = (Index("ix_audit_log_object_action", "object_id", "action"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last sequence number and hash; updating it first serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


class Attachment(Base):
    """A file attached to a project, stored by content hash; its uploaded name is for display only."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    extension: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(32), default="other", server_default="other")
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    size: Mapped[int]
    uploaded_by: Mapped[str] = mapped_column(String(254))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Judge(Base):
    """A judge's profile in one competition: tracks of expertise, unit (and related units), conflicts, cap."""

    __tablename__ = "judges"
    __table_args__ = (UniqueConstraint("competition_code", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    tracks: Mapped[list[Any]] = mapped_column(JSON)
    unit_credit_code: Mapped[str] = mapped_column(String(18))
    related_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    declared_conflicts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    max_load: Mapped[int]
    id_number_index: Mapped[str | None] = mapped_column(String(64))
