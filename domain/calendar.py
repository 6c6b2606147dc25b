"""Stage windows in UTC: built from catalog dates, validated, moved, and compressed for rehearsals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise

from domain.stages import SCHEDULED_STAGES, STAGE_ORDER, Stage


class CalendarError(ValueError):
    """A calendar that breaks the stage order or has an empty or inverted window."""


@dataclass(frozen=True)
class StageWindow:
    """When one stage opens and closes, as aware UTC datetimes (closes_at is exclusive)."""

    stage: Stage
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class DateRange:
    """Inclusive local dates of a scheduled stage, as the notice states them."""

    start: date
    end: date


def local_day_start(day: date, tz: tzinfo) -> datetime:
    """00:00 of a local day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def build_calendar(dates: Mapping[Stage, DateRange], tz: tzinfo) -> list[StageWindow]:
    """UTC windows for every stage from the catalog's inclusive local dates; the award stage is derived."""
    scheduled = {
        stage: StageWindow(stage, local_day_start(r.start, tz), local_day_start(r.end + timedelta(days=1), tz))
        for stage, r in dates.items()
    }
    missing = [s.value for s in SCHEDULED_STAGES if s not in scheduled]
    if missing:
        raise CalendarError(f"calendar is missing stages: {', '.join(missing)}")
    final_notice = scheduled[Stage.FINAL_PUBLIC_NOTICE]
    scheduled[Stage.AWARD] = StageWindow(
        Stage.AWARD, final_notice.closes_at, max(final_notice.closes_at, scheduled[Stage.CEREMONY].opens_at)
    )
    windows = [scheduled[s] for s in STAGE_ORDER]
    validate_calendar(windows)
    return windows


def validate_calendar(windows: Iterable[StageWindow]) -> None:
    """Every stage once, in order, each window not inverted and not overlapping the next."""
    listed = list(windows)
    if [w.stage for w in listed] != list(STAGE_ORDER):
        raise CalendarError("calendar must list every stage once, in order: " + ", ".join(STAGE_ORDER))
    for w in listed:
        if w.opens_at.tzinfo is None or w.closes_at.tzinfo is None:
            raise CalendarError(f"{w.stage}: times must carry a time zone")
        if w.closes_at < w.opens_at:
            raise CalendarError(
                f"{w.stage}: closes ({w.closes_at.isoformat()}) before it opens ({w.opens_at.isoformat()})"
            )
    for before, after in pairwise(listed):
        if after.opens_at < before.closes_at:
            raise CalendarError(
                f"{after.stage} opens ({after.opens_at.isoformat()}) before {before.stage} "
                f"closes ({before.closes_at.isoformat()})"
            )


def window_of(windows: Iterable[StageWindow], stage: Stage) -> StageWindow:
    """The window of one stage."""
    for w in windows:
        if w.stage == stage:
            return w
    raise CalendarError(f"calendar has no window for {stage}")


def move_window(
    windows: Iterable[StageWindow],
    stage: Stage,
    opens_at: datetime,
    closes_at: datetime,
    shift_later: bool = False,
) -> list[StageWindow]:
    """A new calendar with one stage's window moved; with shift_later, every later stage moves by as much as
    its close did (an extension pushes the rest of the season). The award window follows its neighbours."""
    listed = list(windows)
    delta = closes_at - window_of(listed, stage).closes_at
    index = [w.stage for w in listed].index(stage)
    moved = [
        replace(w, opens_at=opens_at, closes_at=closes_at)
        if i == index
        else replace(w, opens_at=w.opens_at + delta, closes_at=w.closes_at + delta)
        if shift_later and i > index
        else w
        for i, w in enumerate(listed)
    ]
    notice, ceremony = window_of(moved, Stage.FINAL_PUBLIC_NOTICE), window_of(moved, Stage.CEREMONY)
    moved = [
        replace(w, opens_at=notice.closes_at, closes_at=max(notice.closes_at, ceremony.opens_at))
        if w.stage == Stage.AWARD
        else w
        for w in moved
    ]
    validate_calendar(moved)
    return moved


def compress(windows: Iterable[StageWindow], starts_at: datetime, season: timedelta) -> list[StageWindow]:
    """The same calendar shifted to start at starts_at and scaled so the whole season lasts `season`."""
    listed = list(windows)
    origin = listed[0].opens_at
    span = listed[-1].closes_at - origin
    if span <= timedelta(0) or season <= timedelta(0):
        raise CalendarError("cannot compress an empty calendar or into an empty season")
    factor = season / span

    def scale(t: datetime) -> datetime:
        return starts_at + (t - origin) * factor

    compressed = [StageWindow(w.stage, scale(w.opens_at), scale(w.closes_at)) for w in listed]
    validate_calendar(compressed)
    return compressed


def windows_to_plain(windows: Iterable[StageWindow]) -> list[dict[str, str]]:
    """Windows as JSON-ready dicts with ISO-8601 UTC times."""
    return [
        {"stage": w.stage.value, "opens_at": w.opens_at.isoformat(), "closes_at": w.closes_at.isoformat()}
        for w in windows
    ]


def windows_from_plain(items: Iterable[Mapping[str, str]]) -> list[StageWindow]:
    """Windows back from their JSON-ready form."""
    return [
        StageWindow(Stage(i["stage"]), datetime.fromisoformat(i["opens_at"]), datetime.fromisoformat(i["closes_at"]))
        for i in items
    ]


def local_text(at: datetime, tz: tzinfo) -> str:
    """`2025-07-18 24:00` for a midnight close, as notices write it; otherwise `YYYY-MM-DD HH:MM`, in `tz`."""
    local = at.astimezone(tz)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"
