"""A local SMTP server (aiosmtpd) on loopback that keeps every message it receives as an .eml file."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import time
from contextlib import suppress
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def message_id_tag(message_id: str) -> str:
    """The short digest of a Message-ID that ends a stored message's file name, so it can be found by name."""
    return hashlib.sha256(message_id.strip().encode()).hexdigest()[:16]


def _message_id_of(content: bytes) -> str:
    """The Message-ID header of a raw message (empty when it has none)."""
    return str(BytesHeaderParser(policy=policy.default).parsebytes(content).get("Message-ID", ""))


class StoringHandler:
    """Writes each accepted message, with its envelope recipients, to one file in the store folder, named by
    arrival and by its Message-ID's digest."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.store.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message before answering 250; the file name orders messages by arrival."""
        content = envelope.original_content or b""
        if isinstance(content, str):
            content = content.encode()
        header = f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode()
        name = f"{time.time_ns()}-{next(self._counter):06d}-{message_id_tag(_message_id_of(content))}.eml"
        tmp = self.store / f".{name}.tmp"
        tmp.write_bytes(header + content)
        tmp.rename(self.store / name)
        return "250 Message accepted for delivery"


class MailSink:
    """The sink as a background server (used by tests and by `make run`)."""

    def __init__(
        self, store: Path, host: str = "127.0.0.1", port: int = 8025, handler: StoringHandler | None = None
    ) -> None:
        self.store = store
        self.handler = handler or StoringHandler(store)
        self._controller = Controller(self.handler, hostname=host, port=port)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._controller.port)

    def start(self) -> MailSink:
        """Start listening in a background thread."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def read_store(store: Path) -> list[EmailMessage]:
    """Every message in a store folder, in arrival order."""
    files = sorted(store.glob("*.eml"))
    return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def read_store_headers(store: Path) -> list[EmailMessage]:
    """The headers of every message in a store folder, in arrival order (fast: bodies are not parsed)."""
    parser = BytesHeaderParser(policy=policy.default)
    messages: list[EmailMessage] = []
    for path in sorted(store.glob("*.eml")):
        with path.open("rb") as f:
            messages.append(parser.parse(f))
    return messages


class SinkStoreLookup:
    """The outbox's delivery lookup for the embedded sink: whether a message with this Message-ID is in the store
    (the sink writes the file before it answers 250, so a file there means the server took the message)."""

    def __init__(self, store: Path) -> None:
        self._store = store

    async def delivered(self, message_id: str) -> bool | None:
        """True when the sink holds the message, False when it does not."""
        tag = message_id_tag(message_id)
        found = await asyncio.to_thread(lambda: next(self._store.glob(f"*-{tag}.eml"), None))
        return found is not None


async def _serve(store: Path, host: str, port: int) -> None:
    sink = MailSink(store, host, port).start()
    print(f"mail sink on smtp://{host}:{port}, storing in {store}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        sink.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--store", type=Path, default=Path(".data/mail"))
    args = parser.parse_args()
    with suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.store.resolve(), args.host, args.port))
