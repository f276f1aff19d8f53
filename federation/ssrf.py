"""The SSRF guard: we never open a connection to a loopback, private or otherwise local address.

Remote servers hand us URLs (actor ids, key ids, inboxes, redirects), so every outgoing
connection is vetted at the socket level: `GuardedNetworkBackend` resolves the host itself,
refuses if *any* resolved address is forbidden, and then connects to the vetted IP, so a DNS
answer that changes between the check and the connect (rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore

from federation.errors import UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges the stdlib flags inconsistently across Python patch releases (or not at all), listed
# explicitly so the verdict does not depend on the interpreter's `is_private` table.
_FORBIDDEN_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata endpoints
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes broadcast
    )
)
_FORBIDDEN_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/96",  # unspecified, loopback and deprecated IPv4-compatible addresses
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, benchmarking, ...)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_forbidden_address(ip: IPAddress) -> bool:
    """True when `ip` is anything but a globally routable unicast address."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        # The packet really goes to the embedded IPv4 address, so judge that one.
        return is_forbidden_address(embedded)
    if isinstance(ip, ipaddress.IPv4Address):
        listed = any(ip in net for net in _FORBIDDEN_V4)
    else:
        listed = any(ip in net for net in _FORBIDDEN_V6)
    return listed or not ip.is_global or ip.is_multicast or ip.is_reserved


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or NAT64 IPv6 address stands for."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def check_url(url: str) -> None:
    """Cheap structural pre-check of a URL to fetch; addresses are checked at connect time."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # parsing the port raises ValueError when it is malformed
    except ValueError as exc:
        raise UnsafeURLError(f"refusing to fetch {url!r}: it is not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(f"refusing to fetch {url!r}: only http and https URLs are fetched")
    if not parts.hostname:
        raise UnsafeURLError(f"refusing to fetch {url!r}: the URL has no host")
    if "@" in parts.netloc:
        raise UnsafeURLError(f"refusing to fetch {url!r}: URLs with user information are refused")


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that only connects to vetted, globally routable addresses.

    httpcore calls `connect_tcp` with the URL's host and later `start_tls` with
    `server_hostname` set to that same host (or the `sni_hostname` extension), so connecting
    to the resolved IP here leaves SNI and certificate verification on the real hostname.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        for ip in addresses:
            if is_forbidden_address(ip):
                raise UnsafeURLError(
                    f"refusing to contact {host}: it resolves to a private or local address ({ip})"
                )
        return await self._connect_first(addresses, port, timeout, local_address, socket_options)

    async def _connect_first(
        self,
        addresses: list[IPAddress],
        port: int,
        connect_timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first vetted address that answers, in resolver order."""
        options = list(socket_options) if socket_options is not None else None
        error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip),
                    port,
                    connect_timeout,
                    local_address=local_address,
                    socket_options=options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # _resolve never returns an empty list
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeURLError(f"refusing to connect to the unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int, limit: float | None) -> list[IPAddress]:
    """All addresses `host` resolves to, deduplicated, in resolver order."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(limit):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]))
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
    return addresses
