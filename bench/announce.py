"""Time the first-round announcement at national scale: one heartbeating activity signals N running workflows
their result with bounded concurrency, on the embedded dev server and SQLite, while the history of the workflow
that runs it stays a handful of events. The N workflows are stand-ins that wait for the same signal a project
workflow takes, so the figure is the cohort step's own cost."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.contracts import AnnouncementReport, AnnouncementRequest
from activities.review import FAN_OUT, CohortActivities
from bench.announce_workflows import AnnouncementDriver, ResultWaiter
from bench.report import publish
from db.migrate import upgrade_to_head
from db.models import Competition, RankingRun
from db.session import make_engine, make_sessionmaker
from devtools.binaries import dev_server_sqlite_flags, temporal_cli

QUEUE = "bench-announce"
CODE = "bench-announce"


async def start_targets(client: Client, ids: list[str], concurrency: int = 64) -> float:
    """Start one waiting workflow per project id; returns the seconds it took."""
    gate = asyncio.Semaphore(concurrency)

    async def one(project_id: str) -> None:
        async with gate:
            # By name: mypy (1.x) mis-solves the no-argument overload of start_workflow here and then reports every
            # typed handle elsewhere in a run without cache (a solver-order bug; ResultWaiter.run takes no argument).
            await client.start_workflow(ResultWaiter.__name__, id=project_id, task_queue=QUEUE)

    started = time.perf_counter()
    await asyncio.gather(*(one(p) for p in ids))
    return time.perf_counter() - started


async def completed(client: Client) -> int:
    """How many stand-ins have received their result and ended."""
    query = f"WorkflowType = 'ResultWaiter' AND ExecutionStatus = 'Completed' AND WorkflowId STARTS_WITH '{CODE}-'"
    return (await client.count_workflows(query)).count


async def run(projects: int, finalists: int) -> dict[str, object]:
    """Seed a ranking run, start the stand-ins, announce, and measure."""
    workdir = Path(tempfile.mkdtemp(prefix="contestflow-bench-"))
    url = f"sqlite+aiosqlite:///{workdir / 'app.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    sessions = make_sessionmaker(make_engine(url))
    ids = [f"{CODE}-P{n:05d}" for n in range(1, projects + 1)]
    outcomes = [
        {"project_id": p, "advanced": n < finalists, "reason": "rank", "rank": n + 1, "score": 90 - n / projects}
        for n, p in enumerate(ids)
    ]
    async with sessions.begin() as session:
        session.add(Competition(code=CODE, name="bench", timezone="Asia/Shanghai", catalog={}, calendar=[]))
        run_row = RankingRun(
            competition_code=CODE,
            round="first",
            parameters={},
            result={"outcomes": outcomes},
            digest="0" * 64,
            created_by="bench",
        )
        session.add(run_row)
        await session.flush()
        run_id = run_row.id

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        ui=False,
        dev_server_database_filename=str(workdir / "temporal.db"),
        dev_server_extra_args=dev_server_sqlite_flags(),
    )
    try:
        client = env.client
        cohort = CohortActivities(sessions, client)
        async with Worker(
            client,
            task_queue=QUEUE,
            workflows=[ResultWaiter, AnnouncementDriver],
            activities=[cohort.announce_first_round],
            max_cached_workflows=2_000,
            # The stand-ins are not what is measured: run them without the sandbox's per-workflow import cost so
            # the worker's CPU goes to the announcement (project workflows keep the sandbox in production).
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            start_seconds = await start_targets(client, ids)
            began = time.perf_counter()
            report: AnnouncementReport = await client.execute_workflow(
                AnnouncementDriver.run, AnnouncementRequest(CODE, run_id), id=f"{CODE}-driver", task_queue=QUEUE
            )
            announce_seconds = time.perf_counter() - began
            done = await completed(client)
            for _ in range(900):  # visibility catches up within seconds; give up after half an hour
                if done >= projects:
                    break
                await asyncio.sleep(2)
                done = await completed(client)
            settled_seconds = time.perf_counter() - began
            events = [e async for e in client.get_workflow_handle(f"{CODE}-driver").fetch_history_events()]
    finally:
        await env.shutdown()
    return {
        "projects": projects,
        "fan_out": FAN_OUT,
        "start_seconds": round(start_seconds, 1),
        "starts_per_second": round(projects / start_seconds, 1),
        "announce_seconds": round(announce_seconds, 1),
        "signals_per_second": round(projects / announce_seconds, 1),
        "all_results_received_seconds": round(settled_seconds, 1),
        "received": done,
        "advanced": report.advanced,
        "not_advanced": report.not_advanced,
        "unreachable": report.unreachable,
        "announcing_workflow_history_events": len(events),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=25_000)
    parser.add_argument("--finalists", type=int, default=84)
    args = parser.parse_args()
    publish(f"announce-{args.projects}", asyncio.run(run(args.projects, args.finalists)))


if __name__ == "__main__":
    main()
