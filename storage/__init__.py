"""Where uploaded files live: a content-addressed store behind a small port (local folder now, S3-compatible later)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    """Keeps files by the SHA-256 of their content."""

    def put(self, temporary: Path, sha256: str) -> None:
        """Take ownership of a finished temporary file."""

    def open_path(self, sha256: str) -> Path:
        """Where a stored file can be read."""


class LocalFileStore:
    """Files under `<root>/<first two hex>/<sha256>`; equal content is stored once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "incoming").mkdir(parents=True, exist_ok=True)

    def temporary(self) -> Path:
        """A fresh temporary file inside the store (same file system, so `put` is a rename)."""
        fd, name = tempfile.mkstemp(dir=self.root / "incoming")
        os.close(fd)
        return Path(name)

    def put(self, temporary: Path, sha256: str) -> None:
        """Move the finished file into place; a duplicate is simply dropped."""
        target = self.open_path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            temporary.unlink()
        else:
            shutil.move(temporary, target)

    def open_path(self, sha256: str) -> Path:
        """Where content with this hash lives."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
