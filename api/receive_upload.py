"""Receive one uploaded file into the content store: streamed while hashed, checked for type, size and content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from fastapi import UploadFile

from api.errors import ApiError
from security.uploads import HEAD_BYTES, UploadRejected, check_content, declared_type, display_name
from storage import LocalFileStore

CHUNK = 1 << 20


@dataclass(frozen=True)
class ReceivedFile:
    """A file now in the store under its SHA-256."""

    name: str
    extension: str
    kind: str
    sha256: str
    size: int


async def receive_upload(file: UploadFile, store: LocalFileStore, limits: dict[str, int]) -> ReceivedFile:
    """Store the upload; wrong content, an empty file or one over its kind's limit is refused (413/422)."""
    temporary = store.temporary()
    try:
        file_type = declared_type(file.filename or "")
        limit = limits[file_type.kind]
        digest, size, head = hashlib.sha256(), 0, b""
        with temporary.open("wb") as out:
            while chunk := await file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadRejected(
                        "file_too_large",
                        f"{file_type.kind} 文件不能超过 {limit} 字节",
                        f"{file_type.kind} files may not exceed {limit} bytes",
                    )
                head += chunk[: max(0, HEAD_BYTES - len(head))]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRejected("file_empty", "文件是空的", "the file is empty")
        check_content(file_type, head, temporary)
    except UploadRejected as exc:
        temporary.unlink(missing_ok=True)
        raise ApiError(413 if exc.code == "file_too_large" else 422, exc.code, exc.zh, exc.en) from exc
    sha256 = digest.hexdigest()
    store.put(temporary, sha256)
    return ReceivedFile(display_name(file.filename or ""), file_type.extension, file_type.kind, sha256, size)
