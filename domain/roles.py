"""Who may do what: roles, actions and the one table (role × action → scope) the API consults."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Roles the notice names, plus the anonymous public."""

    ORGANISER = "organiser"
    TRACK_GROUP = "track_group"
    JUDGE = "judge"
    VERIFIER = "verifier"
    COMMITTEE = "committee"
    SCREENER = "screener"
    TEAM = "team"
    PUBLIC = "public"


class Scope(StrEnum):
    """How far an allowed action reaches: everything, or only the caller's own objects."""

    ALL = "all"
    OWN_TRACKS = "own_tracks"
    OWN_TEAM = "own_team"
    ASSIGNED = "assigned"
    SELF = "self"


class Action(StrEnum):
    """Every act the API offers, named `object.verb`."""

    HEALTH_READ = "health.read"
    COMPETITION_READ = "competition.read"
    COMPETITION_CREATE = "competition.create"
    COMPETITION_SCHEDULE = "competition.schedule"
    PROJECT_REGISTER = "project.register"
    PROJECT_READ = "project.read"
    PROJECT_DECIDE = "project.decide"
    MATERIALS_EDIT = "materials.edit"
    SUPPLEMENT_REQUEST = "supplement.request"
    REPRESENTATIVES_READ = "representatives.read"
    PERSONAL_DATA_REVEAL = "personal_data.reveal"
    ACCOUNT_CREATE = "account.create"
    ACCOUNT_LIST = "account.list"
    ACCOUNT_UPDATE = "account.update"
    ACCOUNT_SELF = "account.self"
    SESSION_CREATE = "session.create"
    API_KEY_MANAGE = "api_key.manage"
    ASSIGNMENT_CREATE = "assignment.create"
    JUDGE_MANAGE = "judge.manage"
    SCORE_SUBMIT = "score.submit"
    SCORE_READ = "score.read"
    ASSIGNMENT_PLAN = "assignment.plan"
    REGISTRY_IMPORT = "registry.import"
    REGISTRATION_IMPORT = "registration.import"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    QUALIFICATION_DECIDE = "qualification.decide"
    SCREENING_RECORD = "screening.record"
    REVIEW_INBOX = "review.inbox"
    CONFLICT_DECLARE = "conflict.declare"
    ASSIGNMENT_OVERRIDE = "assignment.override"
    REVIEW_MONITOR = "review.monitor"
    RANKING_PREVIEW = "ranking.preview"
    FINALISTS_CONFIRM = "finalists.confirm"
    NOTICE_READ = "notice.read"
    OBJECTION_FILE = "objection.file"
    OBJECTION_LIST = "objection.list"
    OBJECTION_RULE = "objection.rule"
    VERIFICATION_PLAN = "verification.plan"
    VERIFICATION_PLEDGE = "verification.pledge"
    VERIFICATION_REPORT = "verification.report"
    VERIFICATION_REMEDIATE = "verification.remediate"
    VERIFICATION_READ = "verification.read"
    PROMOTION_DECIDE = "promotion.decide"
    FINAL_SCHEDULE = "final.schedule"
    AWARDS_CONFIRM = "awards.confirm"
    ORGANISATION_AWARDS = "organisation_awards.manage"
    CEREMONY_PLAN = "ceremony.plan"
    CERTIFICATE_READ = "certificate.read"
    DASHBOARD_READ = "dashboard.read"
    EXPORT_READ = "export.read"
    MAIL_READ = "mail.read"
    MAIL_RESEND = "mail.resend"


_EVERYONE: dict[Role, Scope] = {r: Scope.ALL for r in Role}
_SIGNED_IN_SELF: dict[Role, Scope] = {r: Scope.SELF for r in Role if r is not Role.PUBLIC}
_ORGANISER: dict[Role, Scope] = {Role.ORGANISER: Scope.ALL}

POLICY: dict[Action, dict[Role, Scope]] = {
    Action.HEALTH_READ: _EVERYONE,
    Action.COMPETITION_READ: _EVERYONE,
    Action.COMPETITION_CREATE: _ORGANISER,
    Action.COMPETITION_SCHEDULE: _ORGANISER,
    Action.PROJECT_REGISTER: {Role.PUBLIC: Scope.ALL, Role.ORGANISER: Scope.ALL},
    Action.PROJECT_READ: {
        Role.ORGANISER: Scope.ALL,
        Role.TRACK_GROUP: Scope.OWN_TRACKS,
        Role.TEAM: Scope.OWN_TEAM,
        Role.JUDGE: Scope.ASSIGNED,
        Role.VERIFIER: Scope.ASSIGNED,
    },
    Action.PROJECT_DECIDE: {Role.ORGANISER: Scope.ALL, Role.TRACK_GROUP: Scope.OWN_TRACKS},
    Action.MATERIALS_EDIT: {Role.ORGANISER: Scope.ALL, Role.TEAM: Scope.OWN_TEAM},
    Action.SUPPLEMENT_REQUEST: {Role.ORGANISER: Scope.ALL, Role.TRACK_GROUP: Scope.OWN_TRACKS},
    Action.REPRESENTATIVES_READ: {
        Role.ORGANISER: Scope.ALL,
        Role.TRACK_GROUP: Scope.OWN_TRACKS,
        Role.TEAM: Scope.OWN_TEAM,
    },
    Action.PERSONAL_DATA_REVEAL: _ORGANISER,
    Action.ACCOUNT_CREATE: _ORGANISER,
    Action.ACCOUNT_LIST: _ORGANISER,
    Action.ACCOUNT_UPDATE: _ORGANISER,
    Action.ACCOUNT_SELF: _SIGNED_IN_SELF,
    Action.SESSION_CREATE: _EVERYONE,
    Action.API_KEY_MANAGE: {**_SIGNED_IN_SELF, Role.ORGANISER: Scope.ALL},
    Action.ASSIGNMENT_CREATE: _ORGANISER,
    Action.JUDGE_MANAGE: _ORGANISER,
    Action.SCORE_SUBMIT: {Role.JUDGE: Scope.ASSIGNED},
    Action.SCORE_READ: {Role.ORGANISER: Scope.ALL, Role.TRACK_GROUP: Scope.OWN_TRACKS, Role.JUDGE: Scope.ASSIGNED},
    Action.ASSIGNMENT_PLAN: _ORGANISER,
    Action.REGISTRY_IMPORT: _ORGANISER,
    Action.REGISTRATION_IMPORT: _ORGANISER,
    Action.AUDIT_READ: _ORGANISER,
    Action.AUDIT_VERIFY: _ORGANISER,
    Action.QUALIFICATION_DECIDE: {Role.ORGANISER: Scope.ALL, Role.TRACK_GROUP: Scope.OWN_TRACKS},
    Action.SCREENING_RECORD: {Role.ORGANISER: Scope.ALL, Role.SCREENER: Scope.ALL},
    Action.REVIEW_INBOX: {Role.JUDGE: Scope.SELF},
    Action.CONFLICT_DECLARE: {Role.JUDGE: Scope.ASSIGNED},
    Action.ASSIGNMENT_OVERRIDE: _ORGANISER,
    Action.REVIEW_MONITOR: {Role.ORGANISER: Scope.ALL, Role.TRACK_GROUP: Scope.ALL},
    Action.RANKING_PREVIEW: _ORGANISER,
    Action.FINALISTS_CONFIRM: _ORGANISER,
    Action.NOTICE_READ: _EVERYONE,
    Action.OBJECTION_FILE: _EVERYONE,
    Action.OBJECTION_LIST: {Role.ORGANISER: Scope.ALL, Role.COMMITTEE: Scope.ALL},
    Action.OBJECTION_RULE: {Role.COMMITTEE: Scope.ALL},
    Action.VERIFICATION_PLAN: _ORGANISER,
    Action.VERIFICATION_PLEDGE: {Role.TEAM: Scope.OWN_TEAM},
    Action.VERIFICATION_REPORT: {Role.ORGANISER: Scope.ALL, Role.VERIFIER: Scope.ASSIGNED},
    Action.VERIFICATION_REMEDIATE: {Role.TEAM: Scope.OWN_TEAM},
    Action.VERIFICATION_READ: {
        Role.ORGANISER: Scope.ALL,
        Role.TRACK_GROUP: Scope.OWN_TRACKS,
        Role.TEAM: Scope.OWN_TEAM,
        Role.VERIFIER: Scope.ASSIGNED,
    },
    Action.PROMOTION_DECIDE: _ORGANISER,
    Action.FINAL_SCHEDULE: _ORGANISER,
    Action.AWARDS_CONFIRM: _ORGANISER,
    Action.ORGANISATION_AWARDS: _ORGANISER,
    Action.CEREMONY_PLAN: _ORGANISER,
    Action.CERTIFICATE_READ: {Role.ORGANISER: Scope.ALL, Role.TRACK_GROUP: Scope.OWN_TRACKS, Role.TEAM: Scope.OWN_TEAM},
    Action.DASHBOARD_READ: _ORGANISER,
    Action.EXPORT_READ: _ORGANISER,
    Action.MAIL_READ: _ORGANISER,
    Action.MAIL_RESEND: _ORGANISER,
}


# Actions on one project: a caller the table (or the scope) denies gets 404, as if the project did not exist.
PROJECT_ACTIONS = frozenset(
    {
        Action.PROJECT_READ,
        Action.PROJECT_DECIDE,
        Action.MATERIALS_EDIT,
        Action.SCORE_SUBMIT,
        Action.SCORE_READ,
        Action.SUPPLEMENT_REQUEST,
        Action.REPRESENTATIVES_READ,
        Action.PERSONAL_DATA_REVEAL,
        Action.ASSIGNMENT_CREATE,
        Action.QUALIFICATION_DECIDE,
        Action.SCREENING_RECORD,
        Action.CONFLICT_DECLARE,
        Action.ASSIGNMENT_OVERRIDE,
        Action.VERIFICATION_PLAN,
        Action.VERIFICATION_PLEDGE,
        Action.VERIFICATION_REPORT,
        Action.VERIFICATION_REMEDIATE,
        Action.VERIFICATION_READ,
        Action.CERTIFICATE_READ,
    }
)


def scope_of(role: Role, action: Action) -> Scope | None:
    """The scope a role has for an action, or None when the table denies it."""
    return POLICY[action].get(role)


def roles_allowed(action: Action) -> list[str]:
    """The roles that may perform an action, for the OpenAPI schema."""
    return [role.value for role in POLICY[action]]
