"""The same operations straight against Temporal, in the same run: start, update and signal a trivial workflow
from this process at the simulator's concurrency, so API-path rates have a baseline to be divided by."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from bench.raw_workflows import RawProject

QUEUE = "raw-baseline"


@dataclass(frozen=True)
class RawRates:
    """Operations per second straight against Temporal."""

    starts: float
    updates: float
    signals: float
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU ms per operation, the whole stack's


async def measure(
    client: Client, count: int, concurrency: int, prefix: str, cpu: Callable[[], dict[str, float]] = dict
) -> RawRates:
    """Start `count` workflows, update each once, signal each once; each phase's rate and the CPU the stack spent
    per operation (`cpu`: CPU seconds so far per process), then finish them all."""
    ids = [f"{prefix}-raw-{n:06d}" for n in range(count)]
    gate = asyncio.Semaphore(concurrency)
    spent: dict[str, float] = {}

    async def each(call: Callable[[str], Awaitable[Any]], name: str = "") -> float:
        async def one(workflow_id: str) -> None:
            async with gate:
                await call(workflow_id)

        before, started = sum(cpu().values()), time.perf_counter()
        await asyncio.gather(*(one(i) for i in ids))
        spent[name] = round((sum(cpu().values()) - before) / count * 1000, 1)
        return count / (time.perf_counter() - started)

    def handle(workflow_id: str) -> Any:
        return client.get_workflow_handle_for(RawProject.run, workflow_id)

    async with Worker(client, task_queue=QUEUE, workflows=[RawProject]):
        starts = await each(lambda i: client.start_workflow(RawProject.run, id=i, task_queue=QUEUE), "starts")
        updates = await each(lambda i: handle(i).execute_update(RawProject.bump, 1), "updates")
        signals = await each(lambda i: handle(i).signal(RawProject.poke), "signals")
        await each(lambda i: handle(i).signal(RawProject.finish))
    spent.pop("", None)
    return RawRates(round(starts, 1), round(updates, 1), round(signals, 1), spent)
