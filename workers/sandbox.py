"""The SDK's workflow sandbox, minus two costs it pays per payload and per activation that guard nothing.

temporalio 1.35 asks a sandboxed workflow for each payload's serialization context by compiling a code string and
running it with the sandbox's import hooks swapped in; a py-spy profile of the worker in the national simulator
put that at 14 % of its CPU (compiling the string about half, the hooks the other half), for a lookup that only
reads the workflow's info and its pending commands. This runner answers those lookups directly from the instance
living in the sandbox and compiles each code string once; workflow code still runs only inside the sandbox, with
its restrictions (tests/test_worker_sandbox.py checks both). It leans on the SDK's private `_Instance`, so the
pyproject pins temporalio below 1.36 and the tests fail if a new release moves it.
"""

from __future__ import annotations

import threading
from types import CodeType
from typing import Any, cast

import temporalio.converter
import temporalio.workflow
from temporalio.converter._extstore import StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._in_sandbox import InSandbox
from temporalio.worker.workflow_sandbox._runner import _Instance

_COMPILED: dict[str, CodeType] = {}


def compiled(code: str) -> CodeType:
    """The code string compiled once per process (the SDK uses a handful of fixed strings)."""
    found = _COMPILED.get(code)
    if found is None:
        found = _COMPILED[code] = compile(code, "<string>", "exec")  # the name the SDK's exec gives
    return found


class _LeanInstance(_Instance):
    """A sandboxed instance whose context lookups skip the import hooks and whose code strings are compiled once."""

    def _run_code(self, code: str, **extra_globals: Any) -> None:
        """As the SDK's, but executing a cached code object instead of compiling the string again."""
        for key, value in extra_globals.items():
            self.globals_and_locals[key] = value
        try:
            temporalio.workflow.unsafe._set_in_sandbox(True)
            self._current_thread_id = threading.get_ident()
            exec(compiled(code), self.globals_and_locals, self.globals_and_locals)
        finally:
            temporalio.workflow.unsafe._set_in_sandbox(False)
            self._current_thread_id = None
            for key in extra_globals:
                self.globals_and_locals.pop(key, None)

    def _in_sandbox(self) -> InSandbox:
        """The object the sandbox created around the workflow instance."""
        return cast(InSandbox, self.globals_and_locals["__temporal_in_sandbox"])

    def get_serialization_context(
        self, command_info: CommandInfo | None
    ) -> temporalio.converter.SerializationContext | None:
        """Read from the instance: it looks at the workflow's info and pending commands only, running no user code."""
        return self._in_sandbox().get_serialization_context(command_info)

    def get_external_store_context(self, command_info: CommandInfo | None) -> StorageDriverStoreContext:
        """Likewise read from the instance."""
        return self._in_sandbox().get_external_store_context(command_info)


class LeanSandboxedWorkflowRunner(SandboxedWorkflowRunner):
    """The SDK's sandbox with its default restrictions, creating lean instances."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        """Implements `WorkflowRunner.create_instance` with `_LeanInstance`."""
        return _LeanInstance(det, self.runner_class, self.restrictions)
