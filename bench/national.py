"""The national simulator (`make bench`): a whole season driven through ContestFlow's public API as its users would
drive it — N teams register and upload their proofs, organisers check them, 1,000 judges sign in and score five
sheets per project, the ranking is confirmed, finalists are verified, the public objects and the committee rules,
the final is scored and awarded, the ceremony held — on a fresh embedded stack with a rehearsal calendar. Beside
it, in the same run: the same operations straight against Temporal, a plain SMTP loop, the pure assignment and
ranking at N, history sizes and peak memory. Prints the report and writes JSON and Markdown to bench/results/."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from typing import Any

from sqlalchemy import func, select
from temporalio.client import Client

from bench.phases import Timeline, bounded
from bench.profiling import Profiler
from bench.raw_temporal import measure
from bench.sim_report import write_report
from bench.sim_stack import SimStack
from bench.sim_users import Season
from db.outbox import Mail
from db.session import make_engine, make_sessionmaker


async def history_sizes(client: Client, ids: list[str]) -> dict[str, float]:
    """Events and bytes per project workflow over a sample: median and max."""

    async def one(workflow_id: str) -> tuple[int, int]:
        events = [e async for e in client.get_workflow_handle(workflow_id).fetch_history_events()]
        return len(events), sum(e.ByteSize() for e in events)

    sizes = await bounded([lambda w=w: one(w) for w in ids], 16)  # type: ignore[misc]
    counts, volumes = [c for c, _ in sizes], [b for _, b in sizes]
    return {
        "sampled": len(ids),
        "events_median": statistics.median(counts),
        "events_max": max(counts),
        "bytes_median": statistics.median(volumes),
        "bytes_max": max(volumes),
    }


async def competition_events(client: Client, code: str) -> int:
    """How many events the competition's workflow has now."""
    return len([e async for e in client.get_workflow_handle(f"competition-{code}").fetch_history_events()])


async def mail_rates(season: Season, sessions: Any, sink_port: int, concurrency: int) -> dict[str, float]:
    """ContestFlow's outbox rate during the first-round announcement against a plain aiosmtplib loop."""
    from email.message import EmailMessage

    import aiosmtplib

    async with sessions() as session:
        first, last, count = (
            await session.execute(
                select(func.min(Mail.created_at), func.max(Mail.sent_at), func.count()).where(
                    Mail.milestone.in_(("first_round_advanced", "first_round_not_advanced")), Mail.status == "sent"
                )
            )
        ).one()
    outbox = count / max((last - first).total_seconds(), 0.001) if count else 0.0
    plain_count = min(2000, max(200, season.projects // 5))

    async def send(n: int) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "bench@example.com", f"r{n}@example.com", f"plain {n}"
        message.set_content("基准测试 plain loop")
        await aiosmtplib.send(message, hostname="127.0.0.1", port=sink_port)

    started = time.perf_counter()
    await bounded([lambda n=n: send(n) for n in range(plain_count)], concurrency)  # type: ignore[misc]
    plain = plain_count / (time.perf_counter() - started)
    return {
        "outbox_mails": count,
        "outbox_per_second": round(outbox, 1),
        "plain_loop_mails": plain_count,
        "plain_loop_per_second": round(plain, 1),
        "ratio": round(outbox / plain, 2) if plain else 0.0,
    }


def pure_core(projects: int, judges: int) -> dict[str, float]:
    """The assignment and ranking cores alone at the same size (bench/first_round.py)."""
    from bench.first_round import assign_and_rank

    return assign_and_rank(projects, judges, 5)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole season on a fresh stack, and the figures."""
    cache = {"worker_cached_workflows": args.cached_workflows} if args.cached_workflows else {}
    stack = SimStack(args.database, args.workers, cache)
    timeline = Timeline(cpu=lambda: stack.cpu_seconds() | {"simulator": time.process_time()})
    wall = time.perf_counter()
    settings = await stack.start()
    profiler = Profiler(f"national-{args.projects}", stack.pids(("api", "worker-0"))) if args.profile else None
    try:
        client = await Client.connect(settings.temporal_address)
        sessions = make_sessionmaker(make_engine(settings.effective_database_url))
        base = f"http://127.0.0.1:{settings.api_port}"
        season = Season(base, client, sessions, args.projects, args.judges, args.concurrency)
        try:
            await season.prepare()
            code = season.code
            with timeline.phase("register (POST /competitions/{code}/projects)", args.projects):
                await season.register()
            with timeline.phase("upload proofs (4 per project)", 4 * args.projects):
                await season.upload_proofs()
            with timeline.phase("close registration (cohort step)", args.projects):
                await season.close_registration()
            with timeline.phase("qualification and screening (2 updates each)", 2 * args.projects):
                await season.check_all()
            with timeline.phase("judges: accounts and profiles", 2 * args.judges):
                await season.onboard_judges()
            with timeline.phase("assign judges (POST /assignments)", 1) as assigned:
                plan = await season.assign()
            with timeline.phase("judges sign in", args.judges):
                await season.judges_sign_in()
            with timeline.phase("score sheets (POST /projects/{id}/scores)", 5 * args.projects) as scored:
                scored.operations = await season.score()
            with timeline.phase("rank all projects (POST /rankings)", 1):
                run_ = await season.rank()
            before = await competition_events(client, code)
            with timeline.phase("confirm and announce (cohort step)", args.projects):
                await season.confirm(run_)
            announce_events = await competition_events(client, code) - before
            with timeline.phase("verification to the first notice", len(run_["finalists"])):
                finalists = await season.through_first_notice(run_)
            with timeline.phase("objections (public, with evidence)", season.objection_count) as filed:
                receipts = await season.object_to(finalists)
                filed.operations = len(receipts)
            with timeline.phase("committee rulings", len(receipts)):
                await season.rule(receipts)
            with timeline.phase("final, awards and ceremony", len(finalists)):
                checked = await season.final_to_ceremony(finalists)
            season_seconds = time.perf_counter() - wall
            hot = profiler.stop() if profiler else {}
            profiler = None
            memory = stack.peak_memory_mb()
            sample = random.Random(1).sample(season.project_ids, min(200, len(season.project_ids)))
            histories = await history_sizes(client, sorted(set(sample) | set(finalists)))
            mail = await mail_rates(season, sessions, settings.smtp_port, settings.effective_worker_activities)
            raw = await measure(
                client, min(args.projects, 2000), args.concurrency, f"raw-{uuid.uuid4().hex[:6]}", timeline.cpu
            )
            competition_total = await competition_events(client, code)
        finally:
            await season.close()
    finally:
        if profiler is not None:  # the season failed: keep what the profiler saw
            for name, frames in profiler.stop().items():
                print(name, *frames, sep="\n  ")
        stack.stop()
    core = await asyncio.to_thread(pure_core, args.projects, args.judges)
    return {
        "projects": args.projects,
        "judges": args.judges,
        "database": args.database,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "cached_workflows": args.cached_workflows,
        "season_seconds": round(season_seconds, 1),
        "phases": timeline.as_json(),
        "assignment_report": {k: plan[k] for k in ("coverage", "assigned", "max_load") if k in plan},
        "api_assign_seconds": assigned.seconds,
        "checked": checked,
        "raw_temporal": {"starts": raw.starts, "updates": raw.updates, "signals": raw.signals, "cpu_ms": raw.cpu_ms},
        "ratios": {
            "registrations_vs_raw_starts": round(timeline.phases[0].rate / raw.starts, 3),
            "scores_vs_raw_updates": round(scored.rate / raw.updates, 3),
            "objections_vs_raw_updates": round(filed.rate / raw.updates, 3),
        },
        "histories": histories,
        "competition_events": {"total": competition_total, "announce_step": announce_events},
        "peak_memory_mb": memory,
        "mail": mail,
        "pure_core": core,
        "profile": hot,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=25_000)
    parser.add_argument("--judges", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight, as many users at once")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--cached-workflows",
        type=int,
        default=None,
        help="workflows each worker keeps in memory (default: the setting's 2,000; size it to the projects)",
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--profile", action="store_true", help="py-spy the API and the worker during the season")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    write_report(figures)


if __name__ == "__main__":
    main()
