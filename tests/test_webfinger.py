"""WebFinger handles and resolution, and the fetch_json machinery under it.

httpx.MockTransport stands in for remote third-party servers only; our own stack is real.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any

import httpx
import pytest

from federation.errors import FetchError, UnsafeURLError, ValidationError
from federation.http import RemoteStatusError, build_http_client, fetch_json, read_limited
from federation.settings import Settings
from federation.webfinger import parse_handle, resolve_handle

Handler = Callable[[httpx.Request], httpx.Response]
AS_LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def _client(handler: Handler) -> httpx.AsyncClient:
    return build_http_client(Settings(), transport=httpx.MockTransport(handler))


def _json(
    document: Any, *, status: int = 200, media: str = "application/activity+json"
) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(document).encode(), headers={"Content-Type": media}
    )


# --- parse_handle ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handle", "expected"),
    [
        ("@alice@example.com", ("alice", "example.com")),
        ("alice@example.com", ("alice", "example.com")),
        ("acct:alice@example.com", ("alice", "example.com")),
        ("  @Alice@Social.Example.COM ", ("Alice", "social.example.com")),
        ("bob_99@localhost:8000", ("bob_99", "localhost:8000")),
        ("first.last@host.example", ("first.last", "host.example")),
    ],
)
def test_parse_handle_accepts(handle: str, expected: tuple[str, str]) -> None:
    assert parse_handle(handle) == expected


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "alice",
        "@alice",
        "alice@",
        "@@example.com",
        "@alice@example.com@other",
        "alice@exa mple.com",
        "al/ice@example.com",
        "https://example.com/@alice",
        "alice@example.com/path",
        "alice@-example.com",
    ],
)
def test_parse_handle_rejects(handle: str) -> None:
    with pytest.raises(ValidationError, match="expected @user@host"):
        parse_handle(handle)


# --- resolve_handle -------------------------------------------------------------------------


def _jrd(*links: dict[str, str]) -> dict[str, Any]:
    return {"subject": "acct:alice@example.com", "links": list(links)}


async def test_resolve_handle_finds_the_self_link() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        jrd = _jrd(
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": "https://example.com/@alice",
            },
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": "https://ap.example.net/users/alice",
            },
        )
        return _json(jrd, media="application/jrd+json; charset=utf-8")

    async with _client(handler) as client:
        actor = await resolve_handle(client, "@alice@Example.com")
    # Split domains are fine: the actor may live on another host than the handle.
    assert actor == "https://ap.example.net/users/alice"
    (request,) = seen
    assert request.url.host == "example.com"
    assert request.url.path == "/.well-known/webfinger"
    assert request.url.params["resource"] == "acct:alice@example.com"
    assert "application/jrd+json" in request.headers["Accept"]


async def test_resolve_handle_accepts_ld_json_with_profile_and_custom_scheme() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.scheme == "http"
        return _json(_jrd({"rel": "self", "type": AS_LD, "href": "http://localhost:8000/u/bob"}))

    async with _client(handler) as client:
        actor = await resolve_handle(client, "bob@localhost:8000", scheme="http")
    assert actor == "http://localhost:8000/u/bob"


@pytest.mark.parametrize(
    "links",
    [
        [],
        [
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": "https://e.com/@a",
            }
        ],
        [{"rel": "self", "type": "text/html", "href": "https://example.com/@alice"}],
        [{"rel": "self", "type": "application/ld+json", "href": "https://example.com/alice"}],
        [{"rel": "self", "type": "application/activity+json"}],
    ],
)
async def test_resolve_handle_without_activitypub_self_link(links: list[dict[str, str]]) -> None:
    async with _client(lambda request: _json(_jrd(*links))) as client:
        with pytest.raises(FetchError, match="no ActivityPub self link"):
            await resolve_handle(client, "alice@example.com")


async def test_resolve_handle_refuses_non_http_actor_url() -> None:
    jrd = _jrd(
        {"rel": "self", "type": "application/activity+json", "href": "ftp://example.com/alice"}
    )
    async with _client(lambda request: _json(jrd)) as client:
        with pytest.raises(FetchError, match="not an http"):
            await resolve_handle(client, "alice@example.com")


async def test_resolve_handle_unknown_user() -> None:
    async with _client(lambda request: httpx.Response(404)) as client:
        with pytest.raises(RemoteStatusError) as caught:
            await resolve_handle(client, "nobody@example.com")
    assert caught.value.remote_status == 404


# --- fetch_json -----------------------------------------------------------------------------


async def test_fetch_json_follows_relative_redirects_and_sends_accept() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/@alice":
            return httpx.Response(301, headers={"Location": "/users/alice"})
        assert request.headers["Accept"].startswith("application/activity+json")
        return _json({"id": "https://example.com/users/alice"}, media=AS_LD)

    async with _client(handler) as client:
        url, document = await fetch_json(client, "https://example.com/@alice", max_bytes=10_000)
    assert url == "https://example.com/users/alice"
    assert document == {"id": "https://example.com/users/alice"}
    assert seen == ["https://example.com/@alice", "https://example.com/users/alice"]


async def test_fetch_json_redirect_limit() -> None:
    hits: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hits.append(request.url.path)
        return httpx.Response(302, headers={"Location": f"/hop{len(hits)}"})

    async with _client(handler) as client:
        with pytest.raises(FetchError, match="too many redirects"):
            await fetch_json(client, "https://example.com/start", max_bytes=1000, max_redirects=3)
    assert len(hits) == 4


async def test_fetch_json_checks_every_redirect_target() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"Location": "file:///etc/passwd"})

    async with _client(handler) as client:
        with pytest.raises(UnsafeURLError, match="only http and https"):
            await fetch_json(client, "https://example.com/x", max_bytes=1000)


async def test_fetch_json_redirect_without_location() -> None:
    async with _client(lambda request: httpx.Response(302)) as client:
        with pytest.raises(FetchError, match="without a Location"):
            await fetch_json(client, "https://example.com/x", max_bytes=1000)


async def test_fetch_json_size_cap_from_content_length() -> None:
    async with _client(lambda request: _json({"pad": "x" * 5000})) as client:
        with pytest.raises(FetchError, match="larger than 1000 bytes"):
            await fetch_json(client, "https://example.com/big", max_bytes=1000)


async def test_fetch_json_size_cap_without_content_length() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"pad": "'
        for _ in range(100):
            yield b"x" * 100
        yield b'"}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks(), headers={"Content-Type": "application/json"})

    async with _client(handler) as client:
        with pytest.raises(FetchError, match="larger than 1000 bytes"):
            await fetch_json(client, "https://example.com/stream", max_bytes=1000)


async def test_read_limited_returns_small_bodies_whole() -> None:
    client = _client(lambda request: httpx.Response(200, content=b"12345"))
    async with client, client.stream("GET", "https://example.com/") as response:
        assert await read_limited(response, 5) == b"12345"


@pytest.mark.parametrize("media", ["text/html", "text/plain", "", "application/xml"])
async def test_fetch_json_requires_json_content_type(media: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"{}", headers={"Content-Type": media} if media else {})

    async with _client(handler) as client:
        with pytest.raises(FetchError, match="not JSON"):
            await fetch_json(client, "https://example.com/x", max_bytes=1000)


@pytest.mark.parametrize(
    ("body", "reason"), [(b"[1, 2]", "not an object"), (b"{nope", "invalid JSON")]
)
async def test_fetch_json_requires_a_json_object(body: bytes, reason: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    async with _client(handler) as client:
        with pytest.raises(FetchError, match=reason):
            await fetch_json(client, "https://example.com/x", max_bytes=1000)


@pytest.mark.parametrize("status", [404, 410, 500])
async def test_fetch_json_keeps_the_remote_status(status: int) -> None:
    async with _client(lambda request: _json({"error": "x"}, status=status)) as client:
        with pytest.raises(RemoteStatusError) as caught:
            await fetch_json(client, "https://example.com/gone", max_bytes=1000)
    assert caught.value.remote_status == status
    assert caught.value.status == 502


async def test_fetch_json_wraps_transport_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with _client(handler) as client:
        with pytest.raises(FetchError, match=r"could not fetch https://example\.com/x"):
            await fetch_json(client, "https://example.com/x", max_bytes=1000)


async def test_fetch_json_passes_auth_on_every_hop() -> None:
    class Marker(httpx.Auth):
        def auth_flow(
            self, request: httpx.Request
        ) -> Generator[httpx.Request, httpx.Response, None]:
            request.headers["X-Signed"] = request.url.path
            yield request

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["X-Signed"])
        if request.url.path == "/a":
            return httpx.Response(302, headers={"Location": "/b"})
        return _json({})

    async with _client(handler) as client:
        await fetch_json(client, "https://example.com/a", auth=Marker(), max_bytes=1000)
    assert seen == ["/a", "/b"]
