"""Faults for the chaos run: the worker killed with SIGKILL at random moments and started again, as a supervisor
(systemd, Kubernetes) would, every kill and restart recorded with its time."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bench.sim_stack import SimStack


@dataclass
class FaultLog:
    """Every fault injected, in order: (seconds since the start, what, which process)."""

    started: float = field(default_factory=time.monotonic)
    events: list[tuple[float, str, str]] = field(default_factory=list)

    def record(self, kind: str, target: str) -> None:
        """Note one fault now."""
        self.events.append((round(time.monotonic() - self.started, 1), kind, target))
        print(f"  fault at {self.events[-1][0]:>7.1f} s: {kind} {target}", flush=True)

    def count(self, kind: str) -> int:
        """How many faults of that kind."""
        return sum(1 for _, k, _ in self.events if k == kind)


class WorkerKiller:
    """Kills a random worker process with SIGKILL every `mean_gap` seconds on average (exponential gaps, a fixed
    seed), and starts it again after `down` seconds, until stopped."""

    def __init__(self, stack: SimStack, log: FaultLog, mean_gap: float, down: float = 1.0, seed: int = 9) -> None:
        self._stack, self._log = stack, log
        self._mean_gap, self._down = mean_gap, down
        self._rng = random.Random(seed)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin killing in the background."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop killing; every worker is running when this returns."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for name in self._stack.worker_names():
            if not self._stack.running(name):
                self._stack.restart(name)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._rng.expovariate(1 / self._mean_gap))
            name = self._rng.choice(self._stack.worker_names())
            self._stack.signal(name, signal.SIGKILL)
            self._log.record("worker SIGKILL", name)
            await asyncio.sleep(self._down)
            self._stack.restart(name)
            self._log.record("worker restarted", name)


@asynccontextmanager
async def restart_during(stack: SimStack, log: FaultLog, name: str, after: float) -> AsyncIterator[None]:
    """Restart a service (`temporal`: the dev server on its persistent state; `api`) `after` seconds into the
    block, or as the block ends if it is quicker; the block's end waits until the service is back."""
    began = asyncio.Event()

    async def restart() -> None:
        began.set()
        log.record("restart begun", name)
        await stack.restart_gracefully(name)
        log.record(f"{name} restarted", name)

    async def later() -> None:
        await asyncio.sleep(after)
        await restart()

    task = asyncio.create_task(later())
    try:
        yield
    finally:
        if began.is_set():
            await task
        else:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await restart()
