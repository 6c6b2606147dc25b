"""Technical verification of a finalist (3.技术验证): a written pledge or an on-site visit, then a verdict on
compliance, authenticity and legality plus the IP review; and who is promoted when a finalist fails."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Method(StrEnum):
    """How the organiser has a finalist verified."""

    PLEDGE = "pledge"  # 线上文件承诺: the team uploads a signed pledge
    ON_SITE = "on_site"  # 线下实地调研: a verifier visits and files a report


class Verdict(StrEnum):
    """The verdict on one aspect, or on the whole."""

    PASS = "pass"
    CONDITIONAL = "conditional"  # remediation by a due date, then re-checked
    FAIL = "fail"


ASPECTS = ("compliance", "authenticity", "legality", "ip")


@dataclass(frozen=True)
class VerificationProblem:
    """Why a verification report cannot be accepted: a stable code and the messages."""

    code: str
    zh: str
    en: str


def overall(verdicts: Mapping[str, str]) -> Verdict:
    """Any aspect failed → fail; else any conditional → conditional; else pass."""
    values = {Verdict(verdicts[a]) for a in ASPECTS}
    if Verdict.FAIL in values:
        return Verdict.FAIL
    return Verdict.CONDITIONAL if Verdict.CONDITIONAL in values else Verdict.PASS


def check_report(
    verdicts: Mapping[str, str], findings: str, remediation_due: datetime | None, stage_closes: datetime, now: datetime
) -> list[VerificationProblem]:
    """Problems with a verdict as filed: every aspect judged with a known verdict, findings written for anything
    short of a pass, and a conditional verdict's remediation due in the future, before the stage closes."""
    problems: list[VerificationProblem] = []
    missing = [a for a in ASPECTS if a not in verdicts]
    unknown = [a for a in ASPECTS if a in verdicts and verdicts[a] not in {v.value for v in Verdict}]
    extra = sorted(set(verdicts) - set(ASPECTS))
    if missing or unknown or extra:
        named = ", ".join(missing + unknown + extra)
        problems.append(
            VerificationProblem(
                "verdicts_incomplete",
                f"须对合规性、真实性、合法性和知识产权逐项给出 pass/conditional/fail：{named}",
                f"every aspect (compliance, authenticity, legality, ip) needs pass, conditional or fail: {named}",
            )
        )
        return problems
    result = overall(verdicts)
    if result is not Verdict.PASS and not findings.strip():
        problems.append(VerificationProblem("findings_required", "未通过的项须写明发现的问题", "findings are required"))
    if result is Verdict.CONDITIONAL:
        if remediation_due is None:
            problems.append(
                VerificationProblem("remediation_due_required", "有条件通过须给出整改期限", "a remediation due date")
            )
        elif not now < remediation_due <= stage_closes:
            problems.append(
                VerificationProblem(
                    "remediation_due_out_of_range",
                    "整改期限须在现在之后、技术验证结束之前",
                    "the remediation due date must be after now and before verification closes",
                )
            )
    return problems


@dataclass(frozen=True)
class Standing:
    """A project's place in its track's first-round ranking, and whether it can still be promoted."""

    project_id: str
    track: str
    rank: int
    live: bool
    finalist: bool


def next_in_line(track: str, standings: Iterable[Standing]) -> str | None:
    """The best-ranked live project of the track that is not a finalist yet (None when nobody is left)."""
    candidates = sorted(
        (s for s in standings if s.track == track and s.live and not s.finalist), key=lambda s: (s.rank, s.project_id)
    )
    return candidates[0].project_id if candidates else None
