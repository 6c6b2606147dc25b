"""Tables of the public notices: every objection filed, refused or ruled, with the objector's numbers encrypted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow


class Objection(Base):
    """A real-name objection against a project during a public notice, and what became of it."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(String(100), index=True)
    stage: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    id_number_encrypted: Mapped[str] = mapped_column(String(200))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    phone_encrypted: Mapped[str] = mapped_column(String(200))
    phone_masked: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    relation: Mapped[str] = mapped_column(String(32))
    grounds: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # received → open (the project's workflow took it) or refused; open → upheld or dismissed by the committee
    status: Mapped[str] = mapped_column(String(16), default="received")
    refusal_code: Mapped[str | None] = mapped_column(String(64))
    reasons: Mapped[str | None] = mapped_column(Text)
    ruled_by: Mapped[str | None] = mapped_column(String(254))
    ruled_at: Mapped[datetime | None]
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
