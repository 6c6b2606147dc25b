"""The mail outbox table: one row per (workflow, milestone, recipient), with what a resend renders again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow


class Mail(Base):
    """The outbox: one row per (workflow, milestone, recipient), so each mail goes out exactly once.

    status: queued → sending → sent; failed (refused for good); uncertain (the connection broke after the message
    was handed over and the server cannot be asked: an organiser decides whether to resend)."""

    __tablename__ = "mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    workflow_id: Mapped[str] = mapped_column(String(100), index=True)
    milestone: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    template: Mapped[str | None] = mapped_column(String(64))  # with `context`: what a resend renders again
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resent: Mapped[int] = mapped_column(default=0, server_default="0")  # organisers' resends of a failed mail
    sending_since: Mapped[datetime | None]  # when the attempt that is sending it claimed it (its lease starts)
