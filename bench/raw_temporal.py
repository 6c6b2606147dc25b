"""The same operations straight against Temporal, in the same run: start, update and signal a trivial workflow
from this process at the simulator's concurrency, so API-path rates have a baseline to be divided by."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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


async def measure(client: Client, count: int, concurrency: int, prefix: str) -> RawRates:
    """Start `count` workflows, update each once, signal each once; each phase's rate, then finish them all."""
    ids = [f"{prefix}-raw-{n:06d}" for n in range(count)]
    gate = asyncio.Semaphore(concurrency)

    async def each(call: Callable[[str], Awaitable[Any]]) -> float:
        async def one(workflow_id: str) -> None:
            async with gate:
                await call(workflow_id)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in ids))
        return count / (time.perf_counter() - started)

    def handle(workflow_id: str) -> Any:
        return client.get_workflow_handle_for(RawProject.run, workflow_id)

    async with Worker(client, task_queue=QUEUE, workflows=[RawProject]):
        starts = await each(lambda i: client.start_workflow(RawProject.run, id=i, task_queue=QUEUE))
        updates = await each(lambda i: handle(i).execute_update(RawProject.bump, 1))
        signals = await each(lambda i: handle(i).signal(RawProject.poke))
        await each(lambda i: handle(i).signal(RawProject.finish))
    return RawRates(round(starts, 1), round(updates, 1), round(signals, 1))
