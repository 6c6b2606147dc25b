"""The SMTP port: send one message with aiosmtplib; permanent refusals and deliveries in doubt are told apart from
passing faults."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import Message
from typing import Any

import aiosmtplib


class PermanentMailError(Exception):
    """The server refused the message for good (5xx); retrying will not help."""


class DeliveryInDoubt(Exception):
    """The connection failed after the message was handed over and before the server's answer: it may have been
    accepted. Sending it again blindly could deliver it twice."""


@dataclass(frozen=True)
class SmtpConfig:
    """How to reach the SMTP server."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = False
    start_tls: bool = False
    timeout: float = 10.0


@dataclass
class HandOver:
    """How far one send got: the message body began to go out (from then on a fault leaves it in doubt), and the
    server accepted it."""

    handed_over: bool = False
    accepted: bool = False


class _HandOverTracking(aiosmtplib.SMTP):
    """An SMTP client that notes on a HandOver when the message body starts to go out and when it was accepted."""

    def __init__(self, progress: HandOver, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.progress = progress

    async def data(self, message: str | bytes, /, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        """DATA, remembering that from here on a fault leaves the delivery in doubt."""
        self.progress.handed_over = True
        response = await super().data(message, **kwargs)
        self.progress.accepted = True
        return response


class SmtpSender:
    """Sends messages through one SMTP server."""

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self.deadline = 2.5 * config.timeout  # a whole send (connect, envelope, data, quit) ends within this

    async def send(self, message: Message, progress: HandOver | None = None) -> None:
        """Deliver one message. PermanentMailError on 5xx; DeliveryInDoubt when the connection failed while the
        server held the message; any other exception means it was not delivered and is worth a retry. `progress`
        tells a caller whose send was cancelled how far it got."""
        c = self._config
        progress = progress if progress is not None else HandOver()
        client = _HandOverTracking(
            progress,
            hostname=c.host,
            port=c.port,
            username=c.username or None,
            password=c.password or None,
            use_tls=c.use_tls,
            start_tls=c.start_tls,
            timeout=c.timeout,
        )
        try:
            async with asyncio.timeout(self.deadline), client:
                await client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if all(500 <= r.code < 600 for r in exc.recipients):
                raise PermanentMailError(str(exc)) from exc
            raise
        except aiosmtplib.SMTPResponseException as exc:  # the server answered: it did not take the message
            if progress.accepted:
                return  # only the QUIT after an accepted message went wrong
            if 500 <= exc.code < 600:
                raise PermanentMailError(f"{exc.code} {exc.message}") from exc
            raise
        except Exception as exc:
            if progress.accepted:
                return
            if progress.handed_over:
                raise DeliveryInDoubt(f"{type(exc).__name__}: {exc}") from exc
            raise

    async def check(self) -> None:
        """Connect and say NOOP, to report the server as up; raises when it is not."""
        c = self._config
        client = aiosmtplib.SMTP(hostname=c.host, port=c.port, use_tls=c.use_tls, timeout=c.timeout, start_tls=False)
        async with client:
            await client.noop()
