"""Stage windows: local dates to UTC, the derived award window, moves, rehearsal compression."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from catalogs import bundled_catalogs, load_catalog
from domain.calendar import (
    CalendarError,
    StageWindow,
    build_calendar,
    compress,
    move_window,
    window_of,
    windows_from_plain,
    windows_to_plain,
)
from domain.stages import STAGE_ORDER, Stage

SHANGHAI = ZoneInfo("Asia/Shanghai")


def liaoning() -> list[StageWindow]:
    catalog = load_catalog(bundled_catalogs()["liaoning-2025"])
    return build_calendar(catalog.calendar, SHANGHAI)


def test_local_days_become_utc_windows() -> None:
    windows = liaoning()
    assert [w.stage for w in windows] == list(STAGE_ORDER)
    registration = window_of(windows, Stage.REGISTRATION)
    assert registration.opens_at == datetime(2025, 6, 2, 16, tzinfo=UTC)  # 06-03 00:00 in Shanghai
    assert registration.closes_at == datetime(2025, 7, 18, 16, tzinfo=UTC)  # 07-18 24:00 in Shanghai
    notice = window_of(windows, Stage.FIRST_PUBLIC_NOTICE)
    assert notice.closes_at - notice.opens_at == timedelta(days=7)
    final = window_of(windows, Stage.FINAL_REVIEW)
    assert final.opens_at.astimezone(SHANGHAI).date().isoformat() == "2025-08-21"


def test_award_runs_from_final_notice_close_to_ceremony() -> None:
    windows = liaoning()
    award = window_of(windows, Stage.AWARD)
    assert award.opens_at == window_of(windows, Stage.FINAL_PUBLIC_NOTICE).closes_at
    assert award.closes_at == window_of(windows, Stage.CEREMONY).opens_at


def test_moving_a_stage_keeps_order_and_rejects_overlaps() -> None:
    windows = liaoning()
    registration = window_of(windows, Stage.REGISTRATION)
    with pytest.raises(CalendarError, match=r"first_round_review opens .* before registration closes"):
        move_window(windows, Stage.REGISTRATION, registration.opens_at, registration.closes_at + timedelta(days=2))
    extended = move_window(
        windows,
        Stage.REGISTRATION,
        registration.opens_at,
        registration.closes_at + timedelta(days=2),
        shift_later=True,
    )
    assert extended[0].opens_at == registration.opens_at
    for before, after in zip(windows, extended, strict=True):
        assert after.closes_at == before.closes_at + timedelta(days=2), before.stage
    final_review = window_of(windows, Stage.FINAL_REVIEW)
    earlier = move_window(
        windows,
        Stage.FINAL_REVIEW,
        final_review.opens_at - timedelta(days=1),
        final_review.closes_at - timedelta(days=1),
    )
    assert window_of(earlier, Stage.FINAL_PUBLIC_NOTICE) == window_of(windows, Stage.FINAL_PUBLIC_NOTICE)
    with pytest.raises(CalendarError, match=r"closes .* before it opens"):
        move_window(windows, Stage.REGISTRATION, registration.closes_at, registration.opens_at)


def test_moving_the_ceremony_moves_the_award_window() -> None:
    windows = liaoning()
    ceremony = window_of(windows, Stage.CEREMONY)
    later = move_window(
        windows, Stage.CEREMONY, ceremony.opens_at + timedelta(days=3), ceremony.closes_at + timedelta(days=3)
    )
    assert window_of(later, Stage.AWARD).closes_at == ceremony.opens_at + timedelta(days=3)


def test_rehearsal_compresses_the_season_keeping_proportions() -> None:
    windows = liaoning()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    short = compress(windows, start, timedelta(minutes=20))
    assert short[0].opens_at == start
    assert short[-1].closes_at == start + timedelta(minutes=20)
    season = windows[-1].closes_at - windows[0].opens_at
    for long_w, short_w in zip(windows, short, strict=True):
        assert (short_w.closes_at - short_w.opens_at) / timedelta(minutes=20) == pytest.approx(
            (long_w.closes_at - long_w.opens_at) / season
        )


def test_windows_round_trip_through_plain_data() -> None:
    windows = liaoning()
    assert windows_from_plain(windows_to_plain(windows)) == windows
