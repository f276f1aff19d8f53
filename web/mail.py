"""The mail worker: sends queued `OutgoingMail` rows through the configured SMTP server.

Runs only when mail is set up (`smtp_host`). A failed send is retried with backoff; after
`MAX_ATTEMPTS` the row is marked failed and keeps its last error.
Rows are claimed under a lease, so several workers can share the queue.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import OutgoingMail
from federation.db import utcnow
from federation.queue import (
    DONE,
    Wakeup,
    claim_due,
    finish_held,
    new_token,
    retry_values,
    run_until_stopped,
)
from federation.settings import Settings

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=5)
# About a day of retries with the backoff of federation.queue (10 s doubling, capped at 6 h).
MAX_ATTEMPTS = 15
BATCH = 50


class MailWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        identity: str = "unnamed",
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.identity = identity
        self.wakeup = Wakeup()

    async def run_once(self) -> int:
        """Claim and try to send one batch of due mail; return how many were tried."""
        now, token = self.clock(), new_token(self.identity)
        async with self.sessions() as session:
            rows = list(
                await claim_due(
                    session, OutgoingMail, now=now, limit=BATCH, lease=LEASE, token=token
                )
            )
            await session.commit()
        # One at a time: mail is rare, and SMTP servers dislike bursts of connections. Each
        # outcome is written as it comes, so a crash resends at most the message under way.
        for row in rows:
            values = self._outcome(row, await self._send(row), self.clock())
            async with self.sessions() as session:
                await finish_held(session, OutgoingMail, row.id, token, values)
                await session.commit()
        return len(rows)

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped(self.run_once, self.wakeup, stop, name=__name__, idle_seconds=5)

    def message(self, row: OutgoingMail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = email.utils.formataddr(
            (self.settings.instance_name, self.settings.sender_address)
        )
        message["To"] = row.to_address
        message["Subject"] = row.subject
        message["Date"] = email.utils.formatdate(localtime=False)
        message["Message-ID"] = email.utils.make_msgid(domain=self.settings.host_name)
        message.set_content(row.body)
        return message

    async def _send(self, row: OutgoingMail) -> str | None:
        """None when sent, else the error."""
        s = self.settings
        try:
            await aiosmtplib.send(
                self.message(row),
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_security == "tls",
                start_tls=s.smtp_security == "starttls",
                timeout=s.http_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            log.warning("mail %s to %s not sent: %s", row.id, row.to_address, exc)
            return f"{type(exc).__name__}: {exc}"[:1000]
        return None

    def _outcome(self, row: OutgoingMail, error: str | None, now: dt.datetime) -> dict[str, Any]:
        values: dict[str, Any] = {"last_error": error}
        if error is None:
            return values | {"attempts": row.attempts + 1, "state": DONE}
        return values | retry_values(row.attempts, MAX_ATTEMPTS, now)
