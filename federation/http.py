"""The shared outgoing HTTP client and a careful JSON fetch.

Every instance builds its own client with `build_http_client`; nothing here is module state.
Redirects are never followed by httpx itself: `fetch_json` follows them by hand so that each
hop is checked, and the SSRF guard sits below in the transport, at connect time.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin

import httpcore
import httpx

from federation.errors import FetchError
from federation.json_input import MalformedJSON, parse_json
from federation.settings import Settings
from federation.ssrf import GuardedNetworkBackend, check_url

SOFTWARE_VERSION = "0.1.0"
ACTIVITY_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JSON_MEDIA_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json", "application/jrd+json"}
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50)


class RemoteStatusError(FetchError):
    """The remote server answered with a non-2xx status; `remote_status` keeps it (410 = gone)."""

    def __init__(
        self, message: str, *, remote_status: int | None, status: int | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.remote_status = remote_status


class GuardedHTTPTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with a connection pool whose sockets go through the SSRF guard.

    httpx offers no hook for the network backend, so the pool it builds is replaced by an
    equivalent one (same TLS context and limits) that uses `GuardedNetworkBackend`.
    """

    def __init__(
        self, *, verify: ssl.SSLContext | bool = True, limits: httpx.Limits = DEFAULT_LIMITS
    ) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify)
        super().__init__(verify=ssl_context, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=GuardedNetworkBackend(),
        )


def build_http_client(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    user_agent: str | None = None,
) -> httpx.AsyncClient:
    """The instance's outgoing client; pass `transport` to route requests to in-process apps."""
    if transport is None:
        transport = _default_transport(settings)
    return httpx.AsyncClient(
        transport=transport,
        headers={"User-Agent": user_agent or default_user_agent(settings)},
        timeout=httpx.Timeout(settings.http_timeout_seconds),
        follow_redirects=False,
        # Proxies taken from the environment would be mounted beside our transport and bypass
        # the guard, so the environment is ignored.
        trust_env=False,
    )


def default_user_agent(settings: Settings) -> str:
    return f"OurDesign/{SOFTWARE_VERSION} (+{settings.base_url})"


def _default_transport(settings: Settings) -> httpx.AsyncBaseTransport:
    if settings.allow_private_addresses:
        return httpx.AsyncHTTPTransport(limits=DEFAULT_LIMITS)
    return GuardedHTTPTransport()


async def fetch_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    auth: httpx.Auth | None = None,
    max_bytes: int,
    accept: str = ACTIVITY_ACCEPT,
    max_redirects: int = 3,
) -> tuple[str, dict[str, Any]]:
    """GET a JSON object, following at most `max_redirects` redirects; returns (final URL, doc)."""
    headers = {"Accept": accept}
    async with stream_get(
        client, url, headers=headers, auth=auth, max_redirects=max_redirects
    ) as response:
        return str(response.url), await _read_json(response, max_bytes)


@contextlib.asynccontextmanager
async def stream_get(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | None = None,
    max_redirects: int = 3,
) -> AsyncIterator[httpx.Response]:
    """The streamed answer to GET `url`, after at most `max_redirects` redirects, each
    target checked against the SSRF rules; transport errors become FetchError."""
    for _hop in range(max_redirects + 1):
        check_url(url)
        try:
            async with client.stream("GET", url, headers=headers, auth=auth) as response:
                if response.status_code in REDIRECT_STATUSES:
                    url = _redirect_target(response)
                    continue
                yield response
                return
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FetchError(f"could not fetch {url}: {str(exc) or type(exc).__name__}") from exc
    raise FetchError(f"too many redirects (more than {max_redirects}) fetching {url}")


def _redirect_target(response: httpx.Response) -> str:
    location = response.headers.get("location")
    if not location:
        raise FetchError(
            f"{response.url} answered {response.status_code} without a Location header"
        )
    return urljoin(str(response.url), str(location))


async def _read_json(response: httpx.Response, max_bytes: int) -> dict[str, Any]:
    if not response.is_success:
        raise RemoteStatusError(
            f"{response.url} answered {response.status_code}",
            remote_status=response.status_code,
        )
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in JSON_MEDIA_TYPES:
        raise FetchError(
            f"{response.url} answered with content type {media_type or 'none'!r}, not JSON"
        )
    body = await read_limited(response, max_bytes)
    try:
        document = parse_json(body, "the answer", refuse_nul=False)
    except MalformedJSON as exc:
        raise FetchError(f"{response.url} answered with invalid JSON: {exc.message}") from exc
    if not isinstance(document, dict):
        raise FetchError(f"{response.url} answered with JSON that is not an object")
    return document


async def read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    """The (decoded) body of a streamed response, refusing to read more than `max_bytes`."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{response.url} answered with a body larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    # Counting decoded bytes also caps what a compressed body may expand to.
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{response.url} answered with a body larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
