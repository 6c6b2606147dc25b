"""Eligibility: one rule per clause of the notice (五、参赛条件), each with a stable code and both messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class UnitKind(StrEnum):
    """Kinds of entrant unit."""

    ENTERPRISE = "enterprise"
    PUBLIC_INSTITUTION = "public_institution"
    RESEARCH_INSTITUTE = "research_institute"
    UNIVERSITY = "university"
    GOVERNMENT_DEPARTMENT = "government_department"
    OTHER = "other"


PUBLIC_SECTOR = frozenset({UnitKind.GOVERNMENT_DEPARTMENT, UnitKind.PUBLIC_INSTITUTION})


class ListKind(StrEnum):
    """The dishonest lists of 「信用中国」 the notice names."""

    DISHONEST_EXECUTED = "dishonest_executed"
    MAJOR_TAX_VIOLATION = "major_tax_violation"
    PROCUREMENT_VIOLATION = "procurement_violation"
    MAJOR_ILLEGAL_RECORD = "major_illegal_record"


LIST_NAMES = {
    ListKind.DISHONEST_EXECUTED: ("失信被执行人", "judgment defaulters"),
    ListKind.MAJOR_TAX_VIOLATION: ("重大税收违法案件当事人", "major tax violations"),
    ListKind.PROCUREMENT_VIOLATION: ("政府采购严重违法失信行为记录", "serious government-procurement violations"),
    ListKind.MAJOR_ILLEGAL_RECORD: ("重大违法记录", "major illegal records"),
}


class Relation(StrEnum):
    """How a related unit stands to an entrant (五(一)5)."""

    PARENT = "parent"
    SUBSIDIARY = "subsidiary"
    HOLDING = "holding"
    BRANCH = "branch"


@dataclass(frozen=True)
class UnitFacts:
    """What the rules need to know of one unit; the lead unit comes first."""

    credit_code: str
    name: str
    kind: UnitKind
    independent_legal_person: bool
    related: tuple[tuple[str, Relation], ...] = ()


@dataclass(frozen=True)
class Listing:
    """A unit found on one dishonest list."""

    credit_code: str
    kind: ListKind


@dataclass(frozen=True)
class EntryFacts:
    """Everything the registration rules look at, gathered by the caller (database and registries)."""

    track_code: str
    units: tuple[UnitFacts, ...]
    representatives: int
    max_representatives: int
    public_sector_tracks: tuple[str, ...]
    listings: tuple[Listing, ...] = ()
    organiser_affiliates: frozenset[str] = frozenset()
    representatives_elsewhere: tuple[str, ...] = ()
    team_has_project: bool = False
    team_in_other_competition: str | None = None
    registration_open: bool = True


@dataclass(frozen=True)
class Violation:
    """A broken rule: its stable code, the clause it cites, the messages, and what it is about."""

    code: str
    clause: str
    zh: str
    en: str
    subject: str = ""


@dataclass(frozen=True)
class Rule:
    """One clause of the notice as a check over the facts."""

    code: str
    clause: str
    check: Callable[[EntryFacts], list[Violation]] = field(repr=False)


def _violation(code: str, clause: str, zh: str, en: str, subject: str = "") -> Violation:
    return Violation(code, clause, f"{zh}（通知{clause}）", f"{en} (notice {clause})", subject)


def _legal_person(f: EntryFacts) -> list[Violation]:
    return [
        _violation(
            "not_independent_legal_person",
            "五(一)1",
            f"「{u.name}」不具有独立法人资格",
            f"'{u.name}' is not an independent legal person",
            u.credit_code,
        )
        for u in f.units
        if not u.independent_legal_person
    ]


def _listed(kind: ListKind) -> Callable[[EntryFacts], list[Violation]]:
    zh_list, en_list = LIST_NAMES[kind]

    def check(f: EntryFacts) -> list[Violation]:
        names = {u.credit_code: u.name for u in f.units}
        return [
            _violation(
                f"listed_{kind.value}",
                "五(一)1",
                f"「{names.get(hit.credit_code, hit.credit_code)}」被列入{zh_list}名单",
                f"'{names.get(hit.credit_code, hit.credit_code)}' is on the list of {en_list}",
                hit.credit_code,
            )
            for hit in f.listings
            if hit.kind is kind and hit.credit_code in names
        ]

    return check


def _organiser_related(f: EntryFacts) -> list[Violation]:
    found: list[Violation] = []
    for u in f.units:
        if u.credit_code in f.organiser_affiliates:
            found.append(
                _violation(
                    "organiser_related",
                    "五(一)5",
                    f"「{u.name}」是分赛相关组织单位",
                    f"'{u.name}' is one of the sub-competition's organising bodies",
                    u.credit_code,
                )
            )
        for code, relation in u.related:
            if code in f.organiser_affiliates:
                found.append(
                    _violation(
                        "organiser_related",
                        "五(一)5",
                        f"「{u.name}」的{_RELATION_ZH[relation]}是分赛相关组织单位",
                        f"the {relation.value} of '{u.name}' is an organising body",
                        u.credit_code,
                    )
                )
    return found


_RELATION_ZH = {
    Relation.PARENT: "母公司",
    Relation.SUBSIDIARY: "子公司",
    Relation.HOLDING: "控股公司",
    Relation.BRANCH: "分公司",
}


def _public_sector_track(f: EntryFacts) -> list[Violation]:
    if f.track_code in f.public_sector_tracks:
        return []
    allowed = "、".join(f.public_sector_tracks)
    return [
        _violation(
            "public_sector_track",
            "五(一)5",
            f"政府部门和事业单位「{u.name}」只能参加{allowed}赛道",
            f"government departments and public institutions ('{u.name}') may enter only {allowed}",
            u.credit_code,
        )
        for u in f.units
        if u.kind in PUBLIC_SECTOR
    ]


def _representatives(f: EntryFacts) -> list[Violation]:
    if f.representatives <= f.max_representatives:
        return []
    return [
        _violation(
            "too_many_representatives",
            "五(一)2",
            f"每个团队的参赛代表不超过 {f.max_representatives} 人",
            f"a team has at most {f.max_representatives} representatives",
        )
    ]


def _representative_elsewhere(f: EntryFacts) -> list[Violation]:
    return [
        _violation(
            "representative_elsewhere",
            "五(一)2",
            f"参赛代表 {who} 已代表其他团队参赛",
            f"representative {who} already represents another team",
            who,
        )
        for who in f.representatives_elsewhere
    ]


def _second_project(f: EntryFacts) -> list[Violation]:
    return (
        [
            _violation(
                "team_second_project",
                "五(一)2",
                "每个参赛团队只能提交1个参赛项目",
                "a team submits exactly one project",
            )
        ]
        if f.team_has_project
        else []
    )


def _second_competition(f: EntryFacts) -> list[Violation]:
    other = f.team_in_other_competition
    return (
        [
            _violation(
                "team_second_competition",
                "五(一)3",
                f"该团队已报名其他地方分赛（{other}）",
                f"the team has entered another sub-competition ({other})",
                other,
            )
        ]
        if other
        else []
    )


def _registration_open(f: EntryFacts) -> list[Violation]:
    return (
        []
        if f.registration_open
        else [_violation("registration_closed", "四(二)1", "当前不在报名时间内", "registration is not open now")]
    )


RULES: tuple[Rule, ...] = (
    Rule("registration_closed", "四(二)1", _registration_open),
    Rule("not_independent_legal_person", "五(一)1", _legal_person),
    *(Rule(f"listed_{k.value}", "五(一)1", _listed(k)) for k in ListKind),
    Rule("organiser_related", "五(一)5", _organiser_related),
    Rule("public_sector_track", "五(一)5", _public_sector_track),
    Rule("too_many_representatives", "五(一)2", _representatives),
    Rule("representative_elsewhere", "五(一)2", _representative_elsewhere),
    Rule("team_second_project", "五(一)2", _second_project),
    Rule("team_second_competition", "五(一)3", _second_competition),
)


def evaluate(facts: EntryFacts) -> list[Violation]:
    """Every violated rule, in the order of the notice's clauses."""
    return [v for rule in RULES for v in rule.check(facts)]


def problem_change() -> Violation:
    """赛题一经选定不得更改 (五(二)1): the problem never changes once chosen."""
    return _violation("problem_locked", "五(二)1", "赛题一经选定不得更改", "the problem cannot change once chosen")


def project_rename() -> Violation:
    """Teams improve the project without changing its name (五(二)5)."""
    return _violation("name_locked", "五(二)5", "项目迭代升级不得改变项目名称", "the project's name cannot change")


def representatives_change(registration_closed: bool) -> Violation | None:
    """After the registration deadline, representatives cannot change (五(一)2)."""
    if not registration_closed:
        return None
    return _violation(
        "representatives_locked",
        "五(一)2",
        "报名截止之后，参赛代表不可更改",
        "representatives cannot change after the registration deadline",
    )
