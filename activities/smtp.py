"""The SMTP port: send one message with aiosmtplib; permanent refusals are told apart from passing faults."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib


class PermanentMailError(Exception):
    """The server refused the message for good (5xx); retrying will not help."""


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


class SmtpSender:
    """Sends messages through one SMTP server."""

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, message: EmailMessage) -> None:
        """Deliver one message; PermanentMailError on 5xx, other exceptions are worth a retry."""
        c = self._config
        try:
            await aiosmtplib.send(
                message,
                hostname=c.host,
                port=c.port,
                username=c.username or None,
                password=c.password or None,
                use_tls=c.use_tls,
                start_tls=c.start_tls,
                timeout=c.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if all(500 <= r.code < 600 for r in exc.recipients):
                raise PermanentMailError(str(exc)) from exc
            raise
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentMailError(f"{exc.code} {exc.message}") from exc
            raise

    async def check(self) -> None:
        """Connect and say NOOP, to report the server as up; raises when it is not."""
        c = self._config
        client = aiosmtplib.SMTP(hostname=c.host, port=c.port, use_tls=c.use_tls, timeout=c.timeout, start_tls=False)
        async with client:
            await client.noop()
