"""Request and response bodies of the HTTP API, with the limits every text field has."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator, model_validator

from domain.eligibility import Relation, UnitKind
from domain.identifiers import is_valid_credit_code, is_valid_id_number, is_valid_mobile

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Strict(BaseModel):
    """Bodies refuse unknown fields and NUL characters (which no database column should hold)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters (文本不能包含空字符)")
        return data


class RehearsalOptions(Strict):
    """Compress the catalog's calendar to start now and last `season_minutes`."""

    season_minutes: float = Field(20, gt=0, le=60 * 24 * 30)


class CompetitionCreate(Strict):
    """A competition from a bundled catalog (by name) or from catalog text (YAML or JSON)."""

    catalog: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="Name of a bundled catalog, e.g. 'liaoning-2025'"
    )
    catalog_text: Annotated[str, StringConstraints(max_length=2_000_000)] | None = Field(
        None, description="A whole catalog file's text"
    )
    code: Code | None = Field(None, description="Override the catalog's code (e.g. for a rehearsal copy)")
    rehearsal: RehearsalOptions | None = None


class StageWindowOut(BaseModel):
    """One stage's window, in UTC and in the competition's local time."""

    stage: str
    name_zh: str
    name_en: str
    opens_at: datetime
    closes_at: datetime
    opens_local: str
    closes_local: str


class CompetitionOut(BaseModel):
    """A competition as created."""

    code: str
    name: str
    timezone: str
    rehearsal: bool
    tracks: int
    problems: int
    calendar_revision: int
    calendar: list[StageWindowOut]


CreditCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=18, max_length=18)]


def _credit_code(value: str) -> str:
    if not is_valid_credit_code(value):
        raise ValueError("not a valid unified social credit code (统一社会信用代码校验位不符)")
    return value


class RelatedUnitIn(Strict):
    """A parent, subsidiary, holding company or branch of an entrant unit (declared, for 五(一)5)."""

    name: Title
    credit_code: CreditCode
    relation: Relation

    _check = field_validator("credit_code")(_credit_code)


class UnitIn(Strict):
    """An entrant unit (the lead unit 牵头参赛单位, or a partner)."""

    name: Title
    credit_code: CreditCode
    kind: UnitKind
    independent_legal_person: bool = Field(description="Has independent legal-person status (具有独立法人资格)")
    is_sme: bool = Field(False, description="SME declaration (中小企业声明), for enterprises")
    related_units: list[RelatedUnitIn] = Field(default_factory=list, max_length=20)

    _check = field_validator("credit_code")(_credit_code)


class RepresentativeIn(Strict):
    """A team representative (参赛代表), with the personal data the committee needs (stored encrypted)."""

    name: Name
    email: EmailStr
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=18, max_length=18)]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=11, max_length=11)]

    @field_validator("id_number")
    @classmethod
    def _id_check(cls, value: str) -> str:
        if not is_valid_id_number(value):
            raise ValueError("not a valid resident ID number (身份证号码校验位或出生日期不符)")
        return value

    @field_validator("phone")
    @classmethod
    def _phone_check(cls, value: str) -> str:
        if not is_valid_mobile(value):
            raise ValueError("not a mainland mobile number (手机号码格式不符)")
        return value


class TeamIn(Strict):
    """The team that enters."""

    name: Title
    contact_name: Name
    contact_email: EmailStr
    password: Annotated[str, StringConstraints(max_length=200)] = Field(
        description="Password of the team contact's account (username: the contact email)"
    )
    lead_unit: UnitIn
    partner_units: list[UnitIn] = Field(default_factory=list, max_length=10)
    representatives: list[RepresentativeIn] = Field(default_factory=list, max_length=20)


Section = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)]


class ApplicationIn(Strict):
    """The application (项目申报书): its five sections (五(三)1)."""

    overview: Section = ""
    solution: Section = ""
    application_value: Section = ""
    business_model: Section = ""
    team: Section = ""


class ProjectRegister(Strict):
    """A registration: one team, one project, one problem."""

    project_name: Title
    problem_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    team: TeamIn
    application: ApplicationIn | None = Field(None, description="The application's sections, if ready")


class DecisionIn(Strict):
    """An organiser's decision on the stage the project is in."""

    stage: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    decision: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    reason: Reason = ""


class DecisionOut(BaseModel):
    """A decision as the workflow took it."""

    stage: str
    decision: str
    effect: str
    decided_at: datetime


class DecisionRecordOut(BaseModel):
    """One decision in a project's history."""

    stage: str
    decision: str
    actor: str
    reason: str
    decided_at: datetime


class ProjectEventOut(BaseModel):
    """One entry of the project's durable log."""

    seq: int
    kind: str
    stage: str
    decision: str | None
    actor: str | None
    reason: str | None
    occurred_at: datetime


class ProjectOut(BaseModel):
    """A project: what it is, where it stands, what happened to it."""

    id: str
    number: int
    name: str
    competition_code: str
    team_name: str
    track_code: str
    problem_code: str
    registered_at: datetime
    stage: str
    stage_name_zh: str
    outcome: str | None
    waiting_on: str | None
    deadline: datetime | None
    overdue: bool
    calendar: list[StageWindowOut]
    decisions: list[DecisionRecordOut]
    log: list[ProjectEventOut]
    materials_complete: bool = False
    missing_materials: list[str] = Field(default_factory=list)
    violations: list[dict[str, str]] = Field(default_factory=list)
    supplements: list[dict[str, Any]] = Field(default_factory=list)
    review_phase: str | None = Field(None, description="First-round task: qualification, screening, expert_review")


class StageMoveIn(Strict):
    """Move one stage's window."""

    opens_at: datetime
    closes_at: datetime
    shift_later: bool = Field(False, description="Move every later stage by as much as this stage's close moved")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class HealthOut(BaseModel):
    """Each part of the stack, up or down."""

    status: str
    components: dict[str, str]


class RepresentativeOut(BaseModel):
    """A representative as listings show them: ID and phone masked."""

    id: int
    name: str
    email: str
    id_number: str
    phone: str


class RevealIn(Strict):
    """Why an organiser needs the clear personal data (kept in the audit trail)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=500)]


class AssignmentIn(Strict):
    """Assign a judge or verifier account to a project."""

    account_id: int


class AssignmentOut(BaseModel):
    """An assignment."""

    project_id: str
    account_id: int
    kind: str
