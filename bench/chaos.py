"""The chaos run (`make chaos`): the national simulator's season on a fresh embedded stack while the worker is
killed with SIGKILL at random moments and started again, the dev server is restarted twice on its persistent state
and the API once (its users trying again), then every invariant checked — each project ended as its
decisions say, each decision and sheet recorded once, each mail delivered once, the audit chain intact. Prints the
faults and the invariants with their counts and keeps them in bench/results/chaos-N.json and .md."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import traceback
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client

from bench.faults import FaultLog, WorkerKiller, restart_during
from bench.invariants import check_all
from bench.phases import Timeline
from bench.sim_report import RESULTS, machine
from bench.sim_stack import SimStack
from bench.sim_users import Season
from db.session import make_engine, make_sessionmaker


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """The season under faults, then the checks."""
    stack = SimStack(args.database, args.workers)
    timeline = Timeline(cpu=lambda: stack.cpu_seconds() | {"simulator": time.process_time()})
    settings = await stack.start()
    log = FaultLog()
    killer = WorkerKiller(stack, log, mean_gap=args.kill_every, seed=args.seed)
    try:
        client = await Client.connect(settings.temporal_address)
        sessions = make_sessionmaker(make_engine(settings.effective_database_url))
        season = Season(
            f"http://127.0.0.1:{settings.api_port}", client, sessions, args.projects, args.judges, args.concurrency
        )
        try:
            await season.prepare()
            killer.start()
            with timeline.phase("register", args.projects):
                await season.register()
            with timeline.phase("upload proofs", 4 * args.projects):
                await season.upload_proofs()
            with timeline.phase("close registration", args.projects):
                await season.close_registration()
            with timeline.phase("qualification and screening", 2 * args.projects):
                async with restart_during(stack, log, "temporal", after=2.0):  # decisions retried with their keys
                    await season.check_all()
            with timeline.phase("judges", 2 * args.judges):
                await season.onboard_judges()
                async with restart_during(stack, log, "temporal", after=0.5):  # under the assignment's signals
                    await season.assign()
                await season.judges_sign_in()
            with timeline.phase("score sheets", 5 * args.projects):
                async with restart_during(stack, log, "api", after=3.0):  # judges send their sheets again
                    await season.score()
            with timeline.phase("rank, confirm and announce", args.projects):
                ranking = await season.rank()
                await season.confirm(ranking)
            with timeline.phase("verification to the first notice"):
                finalists = await season.through_first_notice(ranking)
            with timeline.phase("objections and rulings", 2 * season.objection_count):
                await season.rule(await season.object_to(finalists))
            with timeline.phase("final, awards and ceremony"):
                await season.final_to_ceremony(finalists)
            await killer.stop()
            with timeline.phase("invariants"):
                invariants = await check_all(client, sessions, season.http, season.code, stack.folder / "mail")
        finally:
            await killer.stop()
            retried = season.retried
            await season.close()
    except BaseException:
        if args.keep:  # leave the stack up to look at what went wrong (Temporal UI, logs, databases)
            traceback.print_exc()
            print(f"kept for inspection: {stack.folder}, Temporal at {settings.temporal_address}", flush=True)
            await asyncio.sleep(args.keep)
        raise
    finally:
        stack.stop()
    return {
        "benchmark": "chaos",
        "at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "projects": args.projects,
        "judges": args.judges,
        "database": args.database,
        "folder": str(stack.folder),  # the stack's logs and databases, kept for a look after the run
        "phases": timeline.as_json(),
        "faults": {
            kind: log.count(kind)
            for kind in ("worker SIGKILL", "worker restarted", "temporal restarted", "api restarted")
        }
        | {"requests the users sent again": retried},
        "fault_log": log.events,
        "invariants": [i.as_json() for i in invariants],
        "passed": all(i.holds for i in invariants),
    }


def markdown(report: dict[str, Any]) -> str:
    """The summary: faults injected and invariants checked, with counts."""
    lines = [
        f"# Chaos run: {report['projects']:,} projects, {report['database']}, {report['at']}",
        "",
        "| fault injected | count |",
        "|---|---:|",
        *(f"| {name} | {count} |" for name, count in report["faults"].items()),
        "",
        "| invariant | holds | checked | detail |",
        "|---|---|---:|---|",
        *(
            f"| {i['name']} | {'yes' if i['holds'] else '**NO**'} | {i['checked']} | {i['detail']} |"
            for i in report["invariants"]
        ),
        "",
        "| phase | seconds |",
        "|---|---:|",
        *(f"| {p['name']} | {p['seconds']} |" for p in report["phases"]),
        "",
        "Every fault, seconds from the start of the season:",
        "",
        *(f"- {at:.1f} s: {kind} ({target})" for at, kind, target in report["fault_log"]),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--judges", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--kill-every", type=float, default=45.0, help="mean seconds between worker SIGKILLs")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--keep", type=float, default=0, help="after a failure, keep the stack up this many seconds")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    name = f"chaos-{args.projects}" + ("" if args.database == "sqlite" else f"-{args.database}")
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    summary = markdown(report)
    (RESULTS / f"{name}.md").write_text(summary)
    print(summary)
    if not report["passed"]:
        raise SystemExit("an invariant does not hold")


if __name__ == "__main__":
    main()
