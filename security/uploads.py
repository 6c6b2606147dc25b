"""Uploaded files judged by their content: magic bytes must match the declared type; names never become paths."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileType:
    """An accepted file type: its kind (for size limits), magic bytes, and for Office files a part it must hold."""

    extension: str
    kind: str
    magic: bytes
    offset: int = 0
    zip_part: str | None = None


FILE_TYPES: dict[str, FileType] = {
    t.extension: t
    for t in (
        FileType("pdf", "document", b"%PDF-"),
        FileType("docx", "document", b"PK\x03\x04", zip_part="word/document.xml"),
        FileType("xlsx", "document", b"PK\x03\x04", zip_part="xl/workbook.xml"),
        FileType("pptx", "document", b"PK\x03\x04", zip_part="ppt/presentation.xml"),
        FileType("png", "image", b"\x89PNG\r\n\x1a\n"),
        FileType("jpg", "image", b"\xff\xd8\xff"),
        FileType("jpeg", "image", b"\xff\xd8\xff"),
        FileType("mp4", "video", b"ftyp", offset=4),
    )
}
HEAD_BYTES = 16


class UploadRejected(ValueError):
    """A file refused for its type, content or size, with a stable code and both messages."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


def display_name(filename: str) -> str:
    """The uploaded name made safe to show (never used as a path): no folders, controls or odd characters."""
    base = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = re.sub(r"[^\w.\- ()\u4e00-\u9fff]", "_", base).strip(" .")
    return cleaned[:120] or "file"


def declared_type(filename: str) -> FileType:
    """The type the name declares; UploadRejected when it is not one ContestFlow accepts."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    file_type = FILE_TYPES.get(extension)
    if file_type is None:
        allowed = ", ".join(sorted(FILE_TYPES))
        raise UploadRejected(
            "file_type_not_allowed",
            f"不接受 .{extension} 文件（可接受：{allowed}）",
            f"'.{extension}' files are not accepted (accepted: {allowed})",
        )
    return file_type


def check_content(file_type: FileType, head: bytes, stored: Path) -> None:
    """The first bytes (and for Office files, the archive's parts) must be what the extension claims."""
    if head[file_type.offset : file_type.offset + len(file_type.magic)] != file_type.magic:
        raise UploadRejected(
            "file_content_mismatch",
            f"文件内容不是 .{file_type.extension} 格式",
            f"the file's content is not a .{file_type.extension} file",
        )
    if file_type.zip_part is not None:
        try:
            with zipfile.ZipFile(stored) as archive:
                ok = file_type.zip_part in archive.namelist()
        except zipfile.BadZipFile:
            ok = False
        if not ok:
            raise UploadRejected(
                "file_content_mismatch",
                f"文件内容不是有效的 .{file_type.extension} 文档",
                f"the file is not a valid .{file_type.extension} document",
            )
