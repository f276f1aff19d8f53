"""Remembering failed key fetches for a while, per key and per host.

Without it, every request naming an unknown or unreachable keyId makes us fetch it again:
anyone can turn our inbox into a request amplifier against a host, or keep a dead host's
timeouts on our request path. A key that failed is refused without a fetch until its entry
expires; a host that failed as a host (no connection, a timeout, a 5xx answer) is refused
for every key on it. A 404 or a bad document counts against that key only, so one deleted
account does not shut out its whole server. Both maps are bounded: the oldest entries go.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from federation.errors import FederationError, FetchError
from federation.http import RemoteStatusError

MAX_ENTRIES = 10_000


class KeyFetchRefused(FetchError):
    """A fetch we did not make because the same key or host failed moments ago."""


class KeyFailureMemory:
    def __init__(
        self,
        seconds: float,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._keys: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._hosts: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def check(self, key_id: str) -> None:
        """KeyFetchRefused if `key_id`, or its host, failed within the last `seconds`."""
        for table, name, what in (
            (self._keys, key_id, f"the key {key_id}"),
            (self._hosts, _host(key_id), f"the host of {key_id}"),
        ):
            reason = self._live(table, name)
            if reason is not None:
                raise KeyFetchRefused(
                    f"{what} failed moments ago ({reason}); not fetched again for up to "
                    f"{int(self.seconds)}s"
                )

    def remember(self, key_id: str, error: FederationError) -> None:
        if self.seconds <= 0:
            return
        self._put(self._keys, key_id, error.message)
        if _host_failed(error):
            self._put(self._hosts, _host(key_id), error.message)

    def forget(self, key_id: str) -> None:
        """The key was fetched fine: its host works (and so does the key)."""
        self._keys.pop(key_id, None)
        self._hosts.pop(_host(key_id), None)

    def _live(self, table: OrderedDict[str, tuple[float, str]], name: str) -> str | None:
        entry = table.get(name)
        if entry is None:
            return None
        if self.clock() - entry[0] > self.seconds:
            del table[name]
            return None
        return entry[1]

    def _put(self, table: OrderedDict[str, tuple[float, str]], name: str, reason: str) -> None:
        table[name] = (self.clock(), reason[:200])
        table.move_to_end(name)
        while len(table) > self.max_entries:
            table.popitem(last=False)


def _host(key_id: str) -> str:
    try:
        return urlsplit(key_id).netloc.lower()
    except ValueError:
        return key_id


def _host_failed(error: FederationError) -> bool:
    """No answer at all, or a server error: the host is down, not just this key gone."""
    if isinstance(error, RemoteStatusError):
        return error.remote_status is None or error.remote_status >= 500
    return isinstance(error.__cause__, httpx.TransportError)
