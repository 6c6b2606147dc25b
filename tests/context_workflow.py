"""A workflow whose payloads carry every kind of serialization context a ContestFlow workflow uses."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def echo(text: str) -> str:
    """Returns its input, so a payload goes each way."""
    return text


@workflow.defn
class Listener:
    """A child that returns the first thing it is told."""

    def __init__(self) -> None:
        self.told: list[str] = []

    @workflow.run
    async def run(self, greeting: str) -> str:
        await workflow.wait_condition(lambda: bool(self.told))
        return f"{greeting}:{self.told[0]}"

    @workflow.signal
    def hear(self, text: str) -> None:
        self.told.append(text)


@workflow.defn
class UsesEveryContext:
    """An activity, a local activity, a child signalled from outside, and an update: payloads under each context."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    @workflow.run
    async def run(self, text: str) -> list[str]:
        self.heard.append(await workflow.execute_activity(echo, text, start_to_close_timeout=timedelta(seconds=30)))
        self.heard.append(
            await workflow.execute_local_activity(echo, text + "-local", start_to_close_timeout=timedelta(seconds=30))
        )
        child_id = f"{workflow.info().workflow_id}-child"
        child = await workflow.start_child_workflow(Listener.run, "child", id=child_id)
        await workflow.get_external_workflow_handle(child_id).signal(Listener.hear, "sig")
        self.heard.append(await child)
        await workflow.wait_condition(lambda: "upd" in self.heard)
        return self.heard

    @workflow.update
    def tell(self, text: str) -> int:
        self.heard.append(text)
        return len(self.heard)
