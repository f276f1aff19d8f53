"""Limits on failed password sign-ins, per login and per client address, over a sliding window.

Failures are rows (`SignInFailure`), so every process and a restart see the same count.
Each attempt is written as a failure and committed before its password is checked (which
takes a tenth of a second), and the limit counts every other attempt's rows: attempts sent
at once see each other, so a burst cannot slip past the limit while its checks run. A
success removes its rows. An attempt over a limit is refused before the password is checked
and is not counted itself: a guesser who keeps trying does not extend the wait of the
person they lock out.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.browser_models import SignInFailure
from federation.db import utcnow
from federation.errors import FederationError

WINDOW = dt.timedelta(minutes=15)
# Ten guesses per quarter hour leave a person room for typos, and cap a guesser at about
# a thousand tries a day against one account: useless against any password worth having.
MAX_PER_LOGIN = 10
# More per address, since people behind one address (a makerspace, a school, carrier NAT)
# share it; still few enough that guessing across many logins from one address is slow.
MAX_PER_ADDRESS = 30


@dataclass(frozen=True)
class FailureKeys:
    """What failures are counted under: the login and, when known, the client's address."""

    login: str
    address: str | None


class SignInLimited(FederationError):
    """Too many recent failures; `retry_after` is in whole seconds (for Retry-After)."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def failure_keys(login: str, client_ip: str) -> FailureKeys:
    """The keys for a login (a known person's user name, else what was typed) and address.

    `client_ip` must be the connection's address as the ASGI server resolved it (uvicorn
    trusts proxy headers only from its configured proxies), never a header taken as sent.
    """
    address = f"ip:{client_ip}" if client_ip else None
    return FailureKeys(f"user:{login.strip().lower()}", address)


async def begin_attempt(session: AsyncSession, keys: FailureKeys) -> list[int]:
    """Count this attempt as a failure (committed), unless the login or the address has used
    up its failures: then its rows go again and `SignInLimited` says how long to wait. The
    ids of the attempt's rows, for `attempt_succeeded`."""
    now = utcnow()
    await session.execute(
        delete(SignInFailure)
        .where(SignInFailure.failed_at <= now - WINDOW)
        .execution_options(synchronize_session=False)
    )
    rows = [SignInFailure(key=key, failed_at=now) for key in _limits(keys)]
    session.add_all(rows)
    await session.commit()
    own = [row.id for row in rows]
    try:
        await _refuse_if_limited(session, keys, own, now)
    except SignInLimited:
        await _delete(session, SignInFailure.id.in_(own))
        await session.commit()
        raise
    return own


async def attempt_succeeded(session: AsyncSession, keys: FailureKeys, own: list[int]) -> None:
    """Forget this attempt and the login's earlier failures (the address's stay: it may be a
    guesser who also owns one account). The caller commits."""
    await _delete(session, SignInFailure.id.in_(own) | (SignInFailure.key == keys.login))


def _limits(keys: FailureKeys) -> dict[str, int]:
    limits = {keys.login: MAX_PER_LOGIN}
    if keys.address is not None:
        limits[keys.address] = MAX_PER_ADDRESS
    return limits


async def _refuse_if_limited(
    session: AsyncSession, keys: FailureKeys, own: list[int], now: dt.datetime
) -> None:
    limits = _limits(keys)
    rows = await session.execute(
        select(SignInFailure.key, SignInFailure.failed_at)
        .where(
            SignInFailure.key.in_(limits),
            SignInFailure.failed_at > now - WINDOW,
            SignInFailure.id.not_in(own),
        )
        .order_by(SignInFailure.failed_at)
    )
    times: dict[str, list[dt.datetime]] = {key: [] for key in limits}
    for key, failed_at in rows.all():
        times[key].append(failed_at)
    waits = {
        key: _wait(times[key], limit, now)
        for key, limit in limits.items()
        if len(times[key]) >= limit
    }
    if waits:
        key = max(waits, key=lambda k: waits[k])
        raise SignInLimited(_limited_message(key == keys.login, waits[key], now), waits[key])


def _wait(times: list[dt.datetime], limit: int, now: dt.datetime) -> int:
    """Seconds until enough of `times` (sorted) leave the window to fall under `limit`."""
    freed_at = times[len(times) - limit] + WINDOW
    return max(1, math.ceil((freed_at - now).total_seconds()))


def _limited_message(for_login: bool, seconds: int, now: dt.datetime) -> str:
    whose = "for this account" if for_login else "from your network address"
    minutes = math.ceil(seconds / 60)
    at = (now + dt.timedelta(seconds=seconds)).strftime("%H:%M UTC")
    return (
        f"too many failed sign-ins {whose}; the password was not checked. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''} (after {at}), or reset the password "
        "if you have forgotten it"
    )


async def _delete(session: AsyncSession, which: Any) -> None:
    await session.execute(
        delete(SignInFailure).where(which).execution_options(synchronize_session=False)
    )
