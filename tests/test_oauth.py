"""OAuth 2 for Mastodon apps: registration, the authorize form, tokens, PKCE, revocation."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonUnauthorizedError

from actors.models import Actor
from actors.oauth import scope_covers
from federation.db import utcnow
from tests.live import AUTHORIZE, authorize_in_browser, in_thread, live_server, shown_code
from tests.support import PASSWORD, Node, bearer
from tests.web_support import hidden_fields

CALLBACK = "https://app.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def register(
    client: httpx.AsyncClient, redirect_uris: str = CALLBACK, scopes: str = "read write"
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/apps",
        json={"client_name": "Test app", "redirect_uris": redirect_uris, "scopes": scopes},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def authorize(
    client: httpx.AsyncClient,
    app: dict[str, Any],
    *,
    redirect_uri: str = CALLBACK,
    challenge: str | None = None,
    decision: str = "authorize",
    password: str = PASSWORD,
    scope: str = "read",
) -> httpx.Response:
    """Open the authorize page, then send its form back as a browser would."""
    params = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": "xyz",
    }
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = await client.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    assert "Test app" in page.text and "<script" not in page.text
    form = hidden_fields(page.text, AUTHORIZE) | {
        "login": "alice",
        "password": password,
        "decision": decision,
    }
    return await client.post("/oauth/authorize", data=form)


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


async def exchange(
    client: httpx.AsyncClient, app: dict[str, Any], code: str, verifier: str | None = None
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    if verifier:
        data["code_verifier"] = verifier
    return await client.post("/oauth/token", data=data)


async def test_code_flow_with_pkce(nodes) -> None:
    a: Node = await nodes("a.test")
    await a.user("alice")
    verifier = secrets.token_urlsafe(48)
    async with a.client() as client:
        app = await register(client)
        assert app["scopes"] == ["read", "write"]
        assert app["vapid_key"] == a.instance.vapid_public_key != ""
        code = code_from(await authorize(client, app, challenge=s256(verifier)))

        wrong = await exchange(client, app, code, secrets.token_urlsafe(48))
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        # A refused attempt does not use the code up; the right verifier still works.
        issued = await exchange(client, app, code, verifier)
        assert issued.status_code == 200, issued.text
        token = issued.json()
        assert token["token_type"] == "Bearer" and token["scope"] == "read"
        assert isinstance(token["created_at"], int)

        again = await exchange(client, app, code, verifier)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

        verified = await client.get(
            "/api/v1/apps/verify_credentials", headers=bearer(token["access_token"])
        )
        assert verified.status_code == 200
        assert verified.json()["name"] == "Test app" and "client_secret" not in verified.json()
        # A read-only grant changes nothing, through any API.
        posted = await a.post_outbox(
            "alice", token["access_token"], {"type": "Note", "content": "hello"}
        )
        assert posted.status_code == 403, posted.text
        assert posted.json() == {"error": "This action is outside the authorized scopes"}
        profile = await client.patch(
            "/api/v1/accounts/update_credentials",
            json={"display_name": "Alice"},
            headers=bearer(token["access_token"]),
        )
        assert profile.status_code == 403
        me = await client.get(
            "/api/v1/accounts/verify_credentials", headers=bearer(token["access_token"])
        )
        assert me.status_code == 200 and me.json()["username"] == "alice"


async def test_missing_verifier_and_plain_method_are_refused(nodes) -> None:
    a: Node = await nodes("a.test")
    await a.user("alice")
    async with a.client() as client:
        app = await register(client)
        code = code_from(await authorize(client, app, challenge=s256("v" * 43)))
        assert (await exchange(client, app, code)).status_code == 400
        plain = await client.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": app["client_id"],
                "redirect_uri": CALLBACK,
                "code_challenge": "v" * 43,
                "code_challenge_method": "plain",
            },
        )
        assert plain.status_code == 302
        assert "error=invalid_request" in plain.headers["location"]


async def test_wrong_password_deny_and_csrf(nodes) -> None:
    a: Node = await nodes("a.test")
    await a.user("alice")
    async with a.client() as client:
        app = await register(client)
        wrong = await authorize(client, app, password="wrong horse")
        assert wrong.status_code == 401 and 'role="alert"' in wrong.text

        denied = await authorize(client, app, decision="deny")
        assert denied.status_code == 302
        assert "error=access_denied" in denied.headers["location"]

        page = await client.get(
            "/oauth/authorize",
            params={"response_type": "code", "client_id": app["client_id"], "state": "xyz"},
        )
        forged = hidden_fields(page.text, AUTHORIZE) | {
            "login": "alice",
            "password": PASSWORD,
            "decision": "authorize",
        }
        del forged["csrf_token"]
        assert (await client.post("/oauth/authorize", data=forged)).status_code == 403
    # Another site's form carries a token but not our cookie.
    async with a.client() as stranger:
        assert (await stranger.post("/oauth/authorize", data=forged)).status_code == 403


async def test_oob_shows_the_code(nodes) -> None:
    a: Node = await nodes("a.test")
    await a.user("alice")
    async with a.client() as client:
        app = await register(client, redirect_uris=OOB)
        page = await authorize(client, app, redirect_uri=OOB)
        assert page.status_code == 200
        issued = await client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": shown_code(page),
                "redirect_uri": OOB,
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
        )
        assert issued.status_code == 200, issued.text


async def test_client_credentials_and_revocation(nodes) -> None:
    a: Node = await nodes("a.test")
    await a.user("alice")
    async with a.client() as client:
        app = await register(client)
        credentials = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
        issued = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "read write", **credentials},
        )
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        assert (
            await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
        ).status_code == 200
        # Within the route's scope, but an app's own token acts for nobody.
        posted = await a.post_outbox("alice", token, {"type": "Note", "content": "hi"})
        assert posted.status_code == 401

        too_wide = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "admin:write", **credentials},
        )
        assert too_wide.status_code == 400 and too_wide.json()["error"] == "invalid_scope"
        bad_secret = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", **credentials, "client_secret": "x"},
        )
        assert bad_secret.status_code in (400, 401)
        assert bad_secret.json()["error"] == "invalid_client"

        revoked = await client.post("/oauth/revoke", data={"token": token, **credentials})
        assert revoked.status_code == 200 and revoked.json() == {}
        after = await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
        assert after.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"client_name": "x", "redirect_uris": "ftp://nope.example/"},
        {"client_name": "x", "redirect_uris": "/relative"},
        {"client_name": "x", "redirect_uris": CALLBACK, "scopes": "read launch:missiles"},
        {"client_name": "", "redirect_uris": CALLBACK},
        {"client_name": "x"},
    ],
)
async def test_bad_registrations_are_refused(nodes, body) -> None:
    a: Node = await nodes("a.test")
    async with a.client() as client:
        response = await client.post("/api/v1/apps", json=body)
    assert response.status_code == 422 and "error" in response.json()


async def test_form_registration_and_metadata(nodes) -> None:
    a: Node = await nodes("a.test")
    async with a.client() as client:
        form = await client.post(
            "/api/v1/apps",
            data={
                "client_name": "Form app",
                "redirect_uris": f"{CALLBACK}\n{OOB}",
                "scopes": "read:accounts write:statuses",
                "website": "https://app.example",
            },
        )
        metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert form.status_code == 200, form.text
    assert form.json()["redirect_uris"] == [CALLBACK, OOB]
    assert metadata["token_endpoint"] == "https://a.test/oauth/token"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "read:accounts" in metadata["scopes_supported"]


def test_parent_scopes_cover_their_children() -> None:
    assert scope_covers(["read"], "read:accounts")
    assert scope_covers(["admin:read"], "admin:read:accounts")
    assert scope_covers(["follow"], "write:blocks")
    assert not scope_covers(["read"], "write:statuses")
    assert not scope_covers(["read:accounts"], "read")


async def test_mastodon_py_signs_in(new_database, tmp_path) -> None:
    async with live_server(await new_database(), tmp_path / "srv") as node:
        await node.user("alice")
        base = f"http://{node.domain}"
        client_id, client_secret = await in_thread(
            Mastodon.create_app,
            "Mastodon.py test",
            scopes=["read", "write"],
            redirect_uris=OOB,
            api_base_url=base,
        )
        mastodon = await in_thread(
            Mastodon, client_id=client_id, client_secret=client_secret, api_base_url=base
        )
        # allow_http: the server under test listens on plain-HTTP loopback.
        url = await in_thread(
            mastodon.auth_request_url, redirect_uris=OOB, scopes=["read"], allow_http=True
        )
        async with httpx.AsyncClient(base_url=base) as browser:
            code = shown_code(await authorize_in_browser(browser, url))
        await in_thread(
            mastodon.log_in, code=code, redirect_uri=OOB, scopes=["read"], allow_http=True
        )
        app = await in_thread(mastodon.app_verify_credentials)
        assert app["name"] == "Mastodon.py test"
        await in_thread(mastodon.revoke_access_token, allow_http=True)
        with pytest.raises(MastodonUnauthorizedError):
            await in_thread(mastodon.app_verify_credentials)


async def test_suspended_person_cannot_authorize(nodes) -> None:
    a: Node = await nodes("a.test")
    alice, _ = await a.user("alice")
    async with a.instance.sessions() as session:
        row = await session.get(Actor, alice.id)
        assert row is not None
        row.suspended_at = utcnow()
        await session.commit()
    async with a.client() as client:
        app = await register(client)
        refused = await authorize(client, app)
    assert refused.status_code == 403 and "suspended" in refused.text


async def test_admin_scopes_are_granted_only_when_asked_for(nodes) -> None:
    """As Mastodon: "read" and "write" cover no admin scope; an app gets one only by naming
    it at registration and at authorization, and the token holds just what it named."""
    a: Node = await nodes("a.test")
    await a.user("alice", role="admin")
    async with a.client() as client:
        everyday = await register(client, scopes="read write follow push")
        refused = await client.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": everyday["client_id"],
                "redirect_uri": CALLBACK,
                "scope": "admin:read",
            },
        )
        assert refused.status_code == 302, refused.text
        assert "error=invalid_scope" in refused.headers["location"]
        wide = await exchange(client, everyday, code_from(await authorize(client, everyday)))
        wide_token = wide.json()["access_token"]

        staff = await register(client, scopes="read admin:read:accounts")
        asked = {"response_type": "code", "client_id": staff["client_id"], "redirect_uri": CALLBACK}
        page = await client.get("/oauth/authorize", params=asked | {"scope": "admin:read:accounts"})
        assert "see, as staff, the instance" in page.text  # the person sees what they grant
        code = code_from(await authorize(client, staff, scope="read admin:read:accounts"))
        issued = (await exchange(client, staff, code)).json()
        assert issued["scope"] == "read admin:read:accounts"
        staff_token = issued["access_token"]

        async def status(path: str, token: str) -> int:
            return (await client.get(path, headers=bearer(token))).status_code

        assert await status("/api/v1/admin/accounts", wide_token) == 403
        assert await status("/api/v1/admin/accounts", staff_token) == 200
        assert await status("/api/v1/admin/reports", staff_token) == 403
        assert await status("/api/v1/timelines/home", staff_token) == 200
