"""What a complete submission holds: the application's five sections and the required proof materials."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

APPLICATION_SECTIONS: dict[str, tuple[str, str]] = {
    "overview": ("项目概述", "overview"),
    "solution": ("解决方案", "solution"),
    "application_value": ("应用价值", "application value"),
    "business_model": ("商业模式", "business model"),
    "team": ("团队介绍", "team"),
}
PROOF_CATEGORIES: dict[str, tuple[str, str]] = {
    "unit_qualification": ("单位基本资质", "unit qualifications"),
    "responsibility_statement": ("申报主体责任声明", "responsibility statement"),
    "financial_audit": ("财务审计", "financial audit"),
    "credit": ("信用情况", "credit standing"),
    "application_case": ("应用案例证明", "application-case proof"),
    "ip_proof": ("知识产权证明", "IP proof"),
}
OTHER_CATEGORIES: dict[str, tuple[str, str]] = {
    "presentation": ("介绍材料", "presentation"),
    "demo_video": ("效果视频", "demo video"),
    "model": ("模型", "model"),
    "documentation": ("说明文档", "documentation"),
    "supplement": ("补充材料", "supplementary material"),
    "other": ("其他材料", "other material"),
}
CATEGORIES = {**PROOF_CATEGORIES, **OTHER_CATEGORIES}


def missing_materials(
    sections: Mapping[str, str] | None, categories: Iterable[str], required_proofs: Iterable[str]
) -> list[str]:
    """Codes of what is still missing: empty application sections, then required proof categories."""
    present = set(categories)
    missing = [f"application.{name}" for name in APPLICATION_SECTIONS if not (sections or {}).get(name, "").strip()]
    return missing + [f"proof.{c}" for c in required_proofs if c not in present]


def describe(missing: Iterable[str]) -> tuple[str, str]:
    """The missing parts as a Chinese and an English list."""
    zh, en = [], []
    for item in missing:
        group, _, name = item.partition(".")
        labels = APPLICATION_SECTIONS if group == "application" else CATEGORIES
        label_zh, label_en = labels.get(name, (name, name))
        zh.append(f"申报书·{label_zh}" if group == "application" else label_zh)
        en.append(f"application: {label_en}" if group == "application" else label_en)
    return "、".join(zh), ", ".join(en)
