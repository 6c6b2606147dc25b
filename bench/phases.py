"""Timing for the simulator: each phase's wall time, operations and rate, and a bounded-concurrency runner that
fails loudly on the first unexpected answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


@dataclass
class Phase:
    """One step of the season: how long it took, how many operations, how many per second."""

    name: str
    seconds: float
    operations: int = 0
    cores: dict[str, float] = field(default_factory=dict)  # each process's CPU seconds over the wall seconds

    @property
    def rate(self) -> float:
        """Operations per second (0 for steps that are one operation)."""
        return round(self.operations / self.seconds, 1) if self.operations and self.seconds else 0.0


@dataclass
class Timeline:
    """Phases in the order they ran."""

    phases: list[Phase] = field(default_factory=list)
    cpu: Callable[[], dict[str, float]] = dict  # CPU seconds so far per process of the stack

    @contextmanager
    def phase(self, name: str, operations: int = 0) -> Iterator[Phase]:
        """Time the block as one phase, with the cores each process kept busy; print it when it ends."""
        found = Phase(name, 0.0, operations)
        before, started = self.cpu(), time.perf_counter()
        yield found
        seconds = time.perf_counter() - started
        after = self.cpu()
        found.seconds = round(seconds, 2)
        found.cores = {k: round((after[k] - before.get(k, 0.0)) / seconds, 2) for k in after} if seconds else {}
        self.phases.append(found)
        busy = " ".join(f"{k} {v:.2f}" for k, v in found.cores.items())
        print(f"  {name:<44} {found.seconds:>9.1f} s  {found.operations:>8}  {found.rate:>8.1f}/s  {busy}", flush=True)

    def get(self, name: str) -> Phase:
        """The phase of that name."""
        return next(p for p in self.phases if p.name == name)

    def as_json(self) -> list[dict[str, Any]]:
        """Every phase with its rate."""
        return [asdict(p) | {"rate": p.rate} for p in self.phases]


async def bounded(calls: Iterable[Callable[[], Awaitable[T]]], concurrency: int) -> list[T]:
    """Run the calls with at most `concurrency` in flight; results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls))


def expect(response: httpx.Response, *statuses: int) -> Any:
    """The JSON body of an expected answer; anything else stops the run with the API's own error."""
    if response.status_code not in (statuses or (200, 201)):
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    return response.json() if response.content else None


class Patient(httpx.AsyncBaseTransport):
    """A user who tries again while the service restarts: when the API cannot be reached (the request never got
    there) or answers 503 (nothing was done), and — for reads and requests with an Idempotency-Key — when the
    connection broke before the answer; other failures are the run's to report."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None, patience: float = 300.0) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._patience = patience
        self.retried = 0  # requests sent again, for the chaos report

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send, and send again with backoff while the service is away, up to `patience` seconds."""
        await request.aread()  # a body that can be sent again
        repeatable = request.method in ("GET", "HEAD") or "idempotency-key" in request.headers
        deadline, pause = time.monotonic() + self._patience, 0.25
        while True:
            try:
                response = await self._inner.handle_async_request(request)
            except httpx.ConnectError:
                pass
            except (httpx.RemoteProtocolError, httpx.ReadError):
                if not repeatable:
                    raise
            else:
                if response.status_code != 503:
                    return response
                await response.aread()
                await response.aclose()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{request.method} {request.url.path}: the service stayed away {self._patience} s")
            self.retried += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)

    async def aclose(self) -> None:
        """Close the pool."""
        await self._inner.aclose()


class Rebase(httpx.AsyncBaseTransport):
    """Sends requests addressed to any host (the season driver's `http://t`) to the live API over HTTP."""

    def __init__(self, base: str) -> None:
        self._base = httpx.URL(base)
        self._inner = Patient()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Rewrite scheme, host and port; keep the path and everything else."""
        request.url = request.url.copy_with(scheme=self._base.scheme, host=self._base.host, port=self._base.port)
        # The simulator's users wait as long as it takes (a chaos run kills the worker under their updates).
        request.extensions["timeout"] = httpx.Timeout(600).as_dict()
        request.headers["host"] = f"{self._base.host}:{self._base.port}"
        return await self._inner.handle_async_request(request)

    @property
    def retried(self) -> int:
        """Requests sent again."""
        return self._inner.retried

    async def aclose(self) -> None:
        """Close the pool."""
        await self._inner.aclose()
