"""Presenting calendars for people: UTC times plus the competition's local wall-clock times."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from api.schemas import StageWindowOut
from domain.calendar import StageWindow, local_text
from domain.stages import rule_for


def aware(at: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def windows_out(windows: Iterable[StageWindow], timezone: str) -> list[StageWindowOut]:
    """Every window, labelled and in both UTC and local time."""
    tz = ZoneInfo(timezone)
    return [
        StageWindowOut(
            stage=w.stage.value,
            name_zh=rule_for(w.stage).name_zh,
            name_en=rule_for(w.stage).name_en,
            opens_at=w.opens_at,
            closes_at=w.closes_at,
            opens_local=f"{w.opens_at.astimezone(tz):%Y-%m-%d %H:%M}",
            closes_local=local_text(w.closes_at, tz),
        )
        for w in windows
    ]


def utc_offset_minutes(timezone: str, at: datetime) -> int:
    """The zone's offset from UTC at one moment, for display inside workflows (which cannot load zones)."""
    offset = ZoneInfo(timezone).utcoffset(at)
    return int(offset.total_seconds() // 60) if offset is not None else 0
