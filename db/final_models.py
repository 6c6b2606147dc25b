"""Tables of the final review: each finalist's roadshow slot, as last planned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow


class RoadshowSlotRow(Base):
    """A finalist's slot in its track's roadshow; re-planning replaces the rows under a higher version."""

    __tablename__ = "roadshow_slots"
    __table_args__ = (UniqueConstraint("competition_code", "track_code", "position"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code", ondelete="CASCADE"), index=True)
    track_code: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    starts_at: Mapped[datetime]
    qa_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    room: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    seed: Mapped[int]
    planned_by: Mapped[str] = mapped_column(String(254))
    planned_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrganisationAward(Base):
    """One of the competition's organisation awards (组织奖), granted by the organiser to a unit or a city."""

    __tablename__ = "organisation_awards"
    __table_args__ = (UniqueConstraint("competition_code", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    citation: Mapped[str] = mapped_column(String(1000))
    granted_by: Mapped[str] = mapped_column(String(254))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ceremony(Base):
    """The award ceremony's time and place; a change is a new version, and invitations go out again."""

    __tablename__ = "ceremonies"

    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code", ondelete="CASCADE"), primary_key=True)
    starts_at: Mapped[datetime]
    venue: Mapped[str] = mapped_column(String(300))
    version: Mapped[int]
    planned_by: Mapped[str] = mapped_column(String(254))
    planned_at: Mapped[datetime] = mapped_column(default=utcnow)
