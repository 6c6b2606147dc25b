"""Objections during a public notice (八、公示与举报): real name, contact, relation and at least one piece of
evidence, only within the notice's window; everything else is refused with the reason, in Chinese and English."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.identifiers import is_valid_id_number, is_valid_mobile

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 5000


class Relation(StrEnum):
    """How the objector stands to the project."""

    COMPETITOR = "competitor"  # another entrant
    EMPLOYEE = "employee"  # works or worked at an entrant unit
    PARTNER = "partner"  # customer, supplier, collaborator
    RIGHTS_HOLDER = "rights_holder"  # claims the IP or data used
    PUBLIC = "public"  # a member of the public


@dataclass(frozen=True)
class ObjectionDraft:
    """An objection as filed, before any check."""

    name: str
    id_number: str
    phone: str
    email: str
    relation: str
    grounds: str
    evidence_files: int


@dataclass(frozen=True)
class Refusal:
    """Why an objection cannot be accepted: a stable code, the field, and the messages."""

    code: str
    field: str
    zh: str
    en: str


def check_objection(draft: ObjectionDraft, now: datetime, opens_at: datetime, closes_at: datetime) -> list[Refusal]:
    """Every reason to refuse the objection (empty: accept it); anonymity is refused before anything else."""
    if not draft.name.strip() or not draft.id_number.strip():
        return [
            Refusal(
                "anonymous",
                "name",
                "举报须实名，匿名举报无效",
                "objections must give a real name; anonymous ones are invalid",
            )
        ]
    refusals: list[Refusal] = []
    if now < opens_at or now >= closes_at:
        refusals.append(
            Refusal(
                "outside_notice_window",
                "filed_at",
                "不在公示期内，不受理举报",
                "objections are taken only while the public notice runs",
            )
        )
    if not is_valid_id_number(draft.id_number.strip().upper()):
        refusals.append(Refusal("invalid_id_number", "id_number", "身份证号码无效", "the ID number is not valid"))
    if not is_valid_mobile(draft.phone.strip()):
        refusals.append(Refusal("invalid_phone", "phone", "手机号码无效", "the mobile number is not valid"))
    if not EMAIL.match(draft.email.strip()):
        refusals.append(Refusal("invalid_email", "email", "电子邮箱无效", "the email address is not valid"))
    if draft.relation not in {r.value for r in Relation}:
        allowed = ", ".join(r.value for r in Relation)
        refusals.append(
            Refusal(
                "unknown_relation", "relation", f"与项目的关系须为：{allowed}", f"relation must be one of: {allowed}"
            )
        )
    if not draft.grounds.strip() or len(draft.grounds) > MAX_TEXT:
        refusals.append(
            Refusal(
                "grounds_required",
                "grounds",
                f"须写明举报事由（不超过{MAX_TEXT}字）",
                f"the grounds are required (at most {MAX_TEXT} characters)",
            )
        )
    if draft.evidence_files < 1:
        refusals.append(
            Refusal(
                "evidence_required", "evidence", "举报须提供证据材料", "an objection needs at least one evidence file"
            )
        )
    return refusals
