"""The raw Temporal baseline: a trivial workflow that takes an update and a signal, as a project workflow does,
with nothing behind them (no database, no validation beyond a type)."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class RawProject:
    """Waits until told to finish; counts updates and signals."""

    def __init__(self) -> None:
        self._updates = 0
        self._signals = 0
        self._done = False

    @workflow.run
    async def run(self) -> int:
        """Ends when the `finish` signal comes; returns how many messages it took."""
        await workflow.wait_condition(lambda: self._done)
        return self._updates + self._signals

    @workflow.update
    def bump(self, value: int) -> int:
        """A decision-shaped update: accepted, counted, answered."""
        self._updates += 1
        return value

    @bump.validator
    def validate_bump(self, value: int) -> None:
        """Refuse negatives, as a validator would refuse a bad sheet."""
        if value < 0:
            raise ValueError("negative")

    @workflow.signal
    def poke(self) -> None:
        """A signal with no payload."""
        self._signals += 1

    @workflow.signal
    def finish(self) -> None:
        """Let the workflow end."""
        self._done = True
