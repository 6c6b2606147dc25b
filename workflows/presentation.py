"""Text the Temporal Web UI shows: summaries, details and timer labels (UTC in, fixed display offset out)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain.stages import Stage, rule_for


def display_time(at: datetime, offset_minutes: int) -> str:
    """`2025-08-18 24:00 (UTC+08:00)` style: midnight closes read as 24:00 of the day before, as notices do."""
    tz = timezone(timedelta(minutes=offset_minutes))
    local = at.astimezone(tz)
    sign = "+" if offset_minutes >= 0 else "-"
    zone = f"UTC{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    if local.hour == 0 and local.minute == 0:
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00 ({zone})"
    return f"{local:%Y-%m-%d %H:%M} ({zone})"


def stage_label(stage: Stage) -> str:
    """`初赛评审 first-round review`."""
    rule = rule_for(stage)
    return f"{rule.name_zh} {rule.name_en}"


def project_summary(project_name: str, track_name: str, problem_code: str) -> str:
    """The one-line summary in the workflow list (Temporal caps it at 200 bytes)."""
    text = f"{project_name} · {track_name} · {problem_code}"
    encoded = text.encode()
    return text if len(encoded) <= 200 else encoded[:197].decode(errors="ignore") + "..."


def project_details(
    project_id: str,
    project_name: str,
    team_name: str,
    track_name: str,
    problem_code: str,
    problem_title: str,
    competition_name: str,
) -> str:
    """Markdown shown once at the top of a project's workflow page."""
    return (
        f"### {project_name}\n\n"
        f"- 项目 Project: `{project_id}`\n- 团队 Team: {team_name}\n- 赛道 Track: {track_name}\n"
        f"- 赛题 Problem: {problem_code} {problem_title}\n- 赛事 Competition: {competition_name}\n"
    )


def current_details(
    stage: Stage,
    phase: str,
    waiting_on: str | None,
    deadline: datetime | None,
    offset_minutes: int,
    outcome: str | None = None,
) -> str:
    """Markdown for what the project waits on now and until when."""
    lines = [f"**阶段 Stage:** {stage_label(stage)}"]
    if outcome:
        lines.append(f"**结果 Outcome:** {outcome}")
    else:
        lines.append(f"**状态 Phase:** {phase}")
    if waiting_on:
        lines.append(f"**等待 Waiting on:** {waiting_on}")
    if deadline is not None:
        lines.append(f"**截止 Until:** {display_time(deadline, offset_minutes)}")
    return "\n\n".join(lines)
