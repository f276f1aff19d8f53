"""The SSRF guard: address classification, URL pre-checks and the guarded client end to end."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
import pytest

from federation.errors import UnsafeURLError
from federation.http import GuardedHTTPTransport, build_http_client, fetch_json
from federation.settings import Settings
from federation.ssrf import GuardedNetworkBackend, check_url, is_forbidden_address

FORBIDDEN = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
    "2002:a00:1::1",  # 6to4 wrapping 10.0.0.1
    "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 wrapping 127.0.0.1
]
ALLOWED = [
    "93.184.216.34",
    "1.1.1.1",
    "8.8.8.8",
    "2606:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:93.184.216.34",
    "64:ff9b::5db8:d822",  # NAT64 wrapping 93.184.216.34
]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_allowed_addresses(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/file", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("example.com/users/alice", "only http and https"),
        ("https://user:secret@example.com/", "user information"),
        ("https://user@example.com/", "user information"),
        ("https:///path", "no host"),
        ("http://", "no host"),
        ("https://example.com:99999/", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),
    ],
)
def test_check_url_rejects(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError, match=reason):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/users/alice",
        "http://example.com:8080/x?y=1",
        "https://[2606:4700::1111]/",
    ],
)
def test_check_url_accepts(url: str) -> None:
    check_url(url)


@dataclass
class LoopbackServer:
    port: int
    connections: int = 0


@pytest.fixture
async def loopback_server() -> AsyncIterator[LoopbackServer]:
    """A tiny HTTP server on 127.0.0.1 that counts the connections it accepts."""
    state = LoopbackServer(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        await reader.readuntil(b"\r\n\r\n")
        body = b'{"ok": true}'
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        )
        writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def _settings(*, allow_private: bool) -> Settings:
    return Settings(allow_private_addresses=allow_private, http_timeout_seconds=5.0)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_guarded_client_refuses_loopback(loopback_server: LoopbackServer, host: str) -> None:
    async with build_http_client(_settings(allow_private=False)) as client:
        with pytest.raises(UnsafeURLError, match="private or local address"):
            await client.get(f"http://{host}:{loopback_server.port}/")
    await asyncio.sleep(0.05)  # give a connection, had one been made, time to be accepted
    assert loopback_server.connections == 0


async def test_guarded_client_refuses_ipv6_loopback_literal() -> None:
    async with build_http_client(_settings(allow_private=False)) as client:
        with pytest.raises(UnsafeURLError, match=r"\(::1\)"):
            await client.get("http://[::1]:9/")


async def test_guarded_fetch_json_refuses_loopback(loopback_server: LoopbackServer) -> None:
    async with build_http_client(_settings(allow_private=False)) as client:
        with pytest.raises(UnsafeURLError):
            await fetch_json(client, f"http://127.0.0.1:{loopback_server.port}/", max_bytes=1000)
    assert loopback_server.connections == 0


async def test_unguarded_client_reaches_loopback(loopback_server: LoopbackServer) -> None:
    async with build_http_client(_settings(allow_private=True)) as client:
        url, document = await fetch_json(
            client, f"http://localhost:{loopback_server.port}/", max_bytes=1000
        )
    assert document == {"ok": True}
    assert url == f"http://localhost:{loopback_server.port}/"
    assert loopback_server.connections == 1


async def test_redirect_to_private_address_is_blocked(loopback_server: LoopbackServer) -> None:
    """A remote server (simulated) redirects to loopback; the real guard stops the second hop."""
    target = f"http://127.0.0.1:{loopback_server.port}/"
    remote = httpx.MockTransport(lambda request: httpx.Response(302, headers={"Location": target}))
    client = httpx.AsyncClient(
        transport=GuardedHTTPTransport(),
        mounts={"all://remote.example": remote},
        trust_env=False,
    )
    async with client:
        with pytest.raises(UnsafeURLError, match="private or local address"):
            await fetch_json(client, "https://remote.example/users/alice", max_bytes=1000)
    assert loopback_server.connections == 0


def test_build_http_client_uses_guarded_transport_unless_private_allowed() -> None:
    guarded = build_http_client(_settings(allow_private=False))
    plain = build_http_client(_settings(allow_private=True))
    assert isinstance(guarded._transport, GuardedHTTPTransport)
    assert not isinstance(plain._transport, GuardedHTTPTransport)
    assert isinstance(plain._transport, httpx.AsyncHTTPTransport)
    settings = _settings(allow_private=False)
    assert guarded.headers["User-Agent"] == f"OurDesign/0.1.0 (+{settings.base_url})"
    assert guarded.follow_redirects is False


def test_build_http_client_uses_given_transport_as_is() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    client = build_http_client(
        _settings(allow_private=False), transport=transport, user_agent="X/1"
    )
    assert client._transport is transport
    assert client.headers["User-Agent"] == "X/1"


@dataclass
class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the real socket layer: records where the guard asked to connect."""

    hosts: list[str] = field(default_factory=list)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.hosts.append(host)
        return httpcore.AsyncNetworkStream()


def _fake_resolver(answers: list[str]) -> Any:
    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers
        ]

    return getaddrinfo


async def test_backend_connects_to_the_vetted_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", _fake_resolver(["93.184.216.34"]))
    inner = RecordingBackend()
    await GuardedNetworkBackend(inner).connect_tcp("example.test", 443)
    assert inner.hosts == ["93.184.216.34"]


async def test_backend_refuses_if_any_answer_is_private(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", _fake_resolver(["93.184.216.34", "10.0.0.5"]))
    inner = RecordingBackend()
    with pytest.raises(UnsafeURLError, match=r"rebind\.test.*\(10\.0\.0\.5\)"):
        await GuardedNetworkBackend(inner).connect_tcp("rebind.test", 443)
    assert inner.hosts == []


async def test_backend_maps_resolution_failure_to_connect_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fail(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fail)
    with pytest.raises(httpcore.ConnectError, match=r"cannot resolve nowhere\.test"):
        await GuardedNetworkBackend(RecordingBackend()).connect_tcp("nowhere.test", 443)


async def test_backend_refuses_unix_sockets() -> None:
    with pytest.raises(UnsafeURLError, match="unix socket"):
        await GuardedNetworkBackend().connect_unix_socket("/var/run/docker.sock")
