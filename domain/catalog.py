"""The competition catalog (tracks, problems, calendar, quotas) parsed from plain data with clear errors."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any

from domain.calendar import CalendarError, DateRange
from domain.materials import PROOF_CATEGORIES
from domain.review import ReviewPolicy, ReviewPolicyError, parse_review
from domain.stages import SCHEDULED_STAGES, Stage

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
AWARD_LEVELS = ("first", "second", "third", "excellence")


class CatalogError(ValueError):
    """A catalog entry that is missing, malformed or inconsistent; the message names the entry."""


@dataclass(frozen=True)
class TrackGroup:
    """A group of problems inside a track (综合赛道 has five)."""

    code: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Track:
    """A track (赛道) with its guiding units (指导单位)."""

    code: str
    number: int
    name: str
    guiding_units: tuple[str, ...]
    groups: tuple[TrackGroup, ...] = ()


@dataclass(frozen=True)
class Problem:
    """A problem (赛题) of a track, with the notice's title and text."""

    code: str
    track: str
    number: int
    title: str
    text: str
    group: str | None = None


@dataclass(frozen=True)
class AwardQuota:
    """How many awards of each level a track gives."""

    first: int
    second: int
    third: int
    excellence: int

    @property
    def total(self) -> int:
        """All awards of the track."""
        return self.first + self.second + self.third + self.excellence


@dataclass(frozen=True)
class Quotas:
    """Competition-wide numbers: finalists, awards, national recommendations."""

    finalists: int
    awards: Mapping[str, AwardQuota]
    organisation_awards: int
    national_recommendations: int
    national_sme_min_ratio: float

    @property
    def national_sme_minimum(self) -> int:
        """The least number of SMEs among the national recommendations (10% of 28 → 3)."""
        return math.ceil(self.national_recommendations * self.national_sme_min_ratio - 1e-9)


@dataclass(frozen=True)
class EligibilityPolicy:
    """Eligibility numbers and lists the rules engine reads."""

    max_representatives: int
    public_sector_tracks: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    """One sub-competition as data."""

    code: str
    name: str
    theme: str
    organiser: str
    timezone: str
    calendar: Mapping[Stage, DateRange]
    public_notice_days: int
    tracks: tuple[Track, ...]
    problems: tuple[Problem, ...]
    quotas: Quotas
    eligibility: EligibilityPolicy
    required_proofs: tuple[str, ...] = ("unit_qualification", "responsibility_statement")
    reminder_days: int = 3
    short_name: str = ""
    official_name: str = ""  # the notice's 规范名称, used whole on certificates and other public output
    edition: str = ""
    contact: str = ""
    review: ReviewPolicy = field(default_factory=ReviewPolicy)
    _problems_by_code: dict[str, Problem] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._problems_by_code.update({p.code: p for p in self.problems})

    def problem(self, code: str) -> Problem | None:
        """A problem by its code, or None."""
        return self._problems_by_code.get(code)

    def track(self, code: str) -> Track | None:
        """A track by its code, or None."""
        return next((t for t in self.tracks if t.code == code), None)

    def problems_of(self, track_code: str) -> tuple[Problem, ...]:
        """The problems of one track, in catalog order."""
        return tuple(p for p in self.problems if p.track == track_code)


def _req(data: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise CatalogError(f"{where}: expected a mapping, got {type(data).__name__}")
    if key not in data or data[key] is None or data[key] == "":
        raise CatalogError(f"{where}: '{key}' is required")
    return data[key]


def _str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _req(data, key, where)
    if not isinstance(value, str):
        raise CatalogError(f"{where}: '{key}' must be text")
    return value.strip()


def _int(data: Mapping[str, Any], key: str, where: str, minimum: int = 0) -> int:
    value = _req(data, key, where) if key in data else None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CatalogError(f"{where}: '{key}' must be a whole number ≥ {minimum}")
    return value


def _code(data: Mapping[str, Any], where: str) -> str:
    code = _str(data, "code", where)
    if not CODE_PATTERN.match(code):
        raise CatalogError(f"{where}: code '{code}' must be lower-case letters, digits, '-' or '_'")
    return code


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CatalogError(f"{where}: '{value}' is not a date (YYYY-MM-DD)") from exc


def _tracks(raw: Any) -> tuple[Track, ...]:
    if not isinstance(raw, list) or not raw:
        raise CatalogError("tracks: at least one track is required")
    tracks: list[Track] = []
    for i, t in enumerate(raw):
        where = f"tracks[{i}]"
        code = _code(t, where)
        where = f"tracks[{i}] ({code})"
        units = _req(t, "guiding_units", where)
        if not isinstance(units, list) or not all(isinstance(u, str) and u for u in units):
            raise CatalogError(f"{where}: 'guiding_units' must be a list of unit names")
        groups = tuple(
            TrackGroup(
                _code(g, f"{where}.groups[{j}]"),
                _str(g, "name", f"{where}.groups[{j}]"),
                str(g.get("description", "")),
            )
            for j, g in enumerate(t.get("groups") or [])
        )
        tracks.append(Track(code, _int(t, "number", where, 1), _str(t, "name", where), tuple(units), groups))
    _unique([t.code for t in tracks], "tracks", "code")
    _unique([str(t.number) for t in tracks], "tracks", "number")
    return tuple(tracks)


def _problems(raw: Any, tracks: tuple[Track, ...]) -> tuple[Problem, ...]:
    if not isinstance(raw, list) or not raw:
        raise CatalogError("problems: at least one problem is required")
    by_code = {t.code: t for t in tracks}
    problems: list[Problem] = []
    for i, p in enumerate(raw):
        where = f"problems[{i}]"
        code = _code(p, where)
        where = f"problems[{i}] ({code})"
        track_code = _str(p, "track", where)
        track = by_code.get(track_code)
        if track is None:
            raise CatalogError(f"{where}: track '{track_code}' is not one of the catalog's tracks")
        group = p.get("group")
        if track.groups and group not in {g.code for g in track.groups}:
            raise CatalogError(f"{where}: group '{group}' is not a group of track '{track_code}'")
        if not track.groups and group is not None:
            raise CatalogError(f"{where}: track '{track_code}' has no groups")
        problems.append(
            Problem(
                code,
                track_code,
                _int(p, "number", where, 1),
                _str(p, "title", where),
                _str(p, "text", where),
                group,
            )
        )
    _unique([p.code for p in problems], "problems", "code")
    _unique([f"{p.track}/{p.group}/{p.number}" for p in problems], "problems", "track/group/number")
    empty = [t.code for t in tracks if not any(p.track == t.code for p in problems)]
    if empty:
        raise CatalogError(f"tracks without problems: {', '.join(empty)}")
    return tuple(problems)


def _unique(values: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise CatalogError(f"{where}: {what} '{v}' appears more than once")
        seen.add(v)


def _calendar(raw: Any, notice_days: int) -> dict[Stage, DateRange]:
    if not isinstance(raw, Mapping):
        raise CatalogError("calendar: expected a mapping of stage → {start, end}")
    unknown = set(raw) - {s.value for s in SCHEDULED_STAGES}
    if unknown:
        raise CatalogError(f"calendar: unknown stages {sorted(unknown)}")
    dates: dict[Stage, DateRange] = {}
    for stage in SCHEDULED_STAGES:
        where = f"calendar.{stage.value}"
        entry = _req(raw, stage.value, "calendar")
        r = DateRange(_date(_req(entry, "start", where), where), _date(_req(entry, "end", where), where))
        if r.end < r.start:
            raise CatalogError(f"{where}: ends {r.end} before it starts {r.start}")
        dates[stage] = r
    for before, after in pairwise(SCHEDULED_STAGES):
        if dates[after].start <= dates[before].end:
            raise CatalogError(
                f"calendar.{after.value}: starts {dates[after].start}, "
                f"not after {before.value} ends {dates[before].end}"
            )
    for stage in (Stage.FIRST_PUBLIC_NOTICE, Stage.FINAL_PUBLIC_NOTICE):
        days = (dates[stage].end - dates[stage].start).days + 1
        if days != notice_days:
            raise CatalogError(f"calendar.{stage.value}: lasts {days} days, the notice period is {notice_days}")
    return dates


def _award_quota(raw: Any, where: str) -> AwardQuota:
    return AwardQuota(*(_int(raw, level, where) for level in AWARD_LEVELS))


def _quotas(raw: Any, tracks: tuple[Track, ...]) -> Quotas:
    where = "quotas"
    awards_raw = _req(raw, "awards", where)
    default = _award_quota(_req(awards_raw, "default", "quotas.awards"), "quotas.awards.default")
    by_track_raw = awards_raw.get("by_track") or {}
    codes = {t.code for t in tracks}
    for track_code in by_track_raw:
        if track_code not in codes:
            raise CatalogError(f"quotas.awards.by_track: '{track_code}' is not one of the catalog's tracks")
    awards = {
        t.code: _award_quota(by_track_raw[t.code], f"quotas.awards.by_track.{t.code}")
        if t.code in by_track_raw
        else default
        for t in tracks
    }
    quotas = Quotas(
        finalists=_int(raw, "finalists", where, 1),
        awards=awards,
        organisation_awards=_int(raw, "organisation_awards", where),
        national_recommendations=_int(raw, "national_recommendations", where),
        national_sme_min_ratio=float(_req(raw, "national_sme_min_ratio", where)),
    )
    if not 0 <= quotas.national_sme_min_ratio <= 1:
        raise CatalogError("quotas.national_sme_min_ratio: must be between 0 and 1")
    total_awards = sum(q.total for q in awards.values())
    if total_awards > quotas.finalists:
        raise CatalogError(f"quotas: {total_awards} track awards exceed {quotas.finalists} finalists")
    if quotas.national_recommendations > quotas.finalists:
        raise CatalogError("quotas.national_recommendations: more than the finalists")
    return quotas


def _eligibility(raw: Any, tracks: tuple[Track, ...]) -> EligibilityPolicy:
    where = "eligibility"
    listed = _req(raw, "public_sector_tracks", where)
    codes = {t.code for t in tracks}
    for code in listed:
        if code not in codes:
            raise CatalogError(f"eligibility.public_sector_tracks: '{code}' is not one of the catalog's tracks")
    return EligibilityPolicy(_int(raw, "max_representatives", where, 1), tuple(listed))


def _required_proofs(raw: Any) -> tuple[str, ...]:
    listed = (
        raw.get("required_proofs", ["unit_qualification", "responsibility_statement"])
        if isinstance(raw, Mapping)
        else None
    )
    if not isinstance(listed, list) or any(c not in PROOF_CATEGORIES for c in listed):
        raise CatalogError(f"materials.required_proofs: each must be one of {', '.join(PROOF_CATEGORIES)}")
    return tuple(listed)


def parse_catalog(data: Any) -> Catalog:
    """A validated Catalog from plain data (as loaded from YAML or JSON); CatalogError names the bad entry."""
    if not isinstance(data, Mapping):
        raise CatalogError("catalog: expected a mapping at the top level")
    code = _code(data, "catalog")
    tracks = _tracks(data.get("tracks"))
    notice_days = _int(data, "public_notice_days", "catalog", 1)
    try:
        calendar = _calendar(_req(data, "calendar", "catalog"), notice_days)
    except CalendarError as exc:
        raise CatalogError(f"calendar: {exc}") from exc
    try:
        review = parse_review(data.get("review"))
    except ReviewPolicyError as exc:
        raise CatalogError(str(exc)) from exc
    return Catalog(
        code=code,
        name=_str(data, "name", "catalog"),
        theme=str(data.get("theme", "")),
        organiser=_str(data, "organiser", "catalog"),
        timezone=_str(data, "timezone", "catalog"),
        calendar=calendar,
        public_notice_days=notice_days,
        tracks=tracks,
        problems=_problems(data.get("problems"), tracks),
        quotas=_quotas(_req(data, "quotas", "catalog"), tracks),
        eligibility=_eligibility(_req(data, "eligibility", "catalog"), tracks),
        required_proofs=_required_proofs(data.get("materials") or {}),
        reminder_days=_int(data, "reminder_days", "catalog", 0) if "reminder_days" in data else 3,
        short_name=str(data.get("short_name", "")),
        official_name=str(data.get("official_name", "")) or _str(data, "name", "catalog"),
        edition=str(data.get("edition", "")),
        contact=str(data.get("contact", "")),
        review=review,
    )
