"""Accounts in the browser: signing up, in and out, CSRF refusals, sign-in limits, password
hash upgrades, settings, API tokens, and the security headers of pages."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
from collections import Counter
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select, update

from actors.browser_models import SignInFailure
from actors.models import Account, Actor, ApiToken
from actors.registration import set_password
from actors.service import check_password
from actors.sign_in_limits import MAX_PER_ADDRESS, MAX_PER_LOGIN, WINDOW
from federation.db import utcnow
from tests.live import authorize_in_browser
from tests.support import PASSWORD, Node, app_token, call, count, get, settle
from tests.web_support import csrf_for, hidden_fields, signed_in_browser, text_of
from web.browser import SESSION_COOKIE
from web.form_guard import FIELD
from web.security_headers import page_policy

NEW_PASSWORD = "a long passphrase"
OOB = "urn:ietf:wg:oauth:2.0:oob"


def session_cookie(response: httpx.Response) -> dict[str, Any]:
    """The session cookie a response sets, with its attributes (lower-cased names)."""
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if SESSION_COOKIE in cookie:
            morsel = cookie[SESSION_COOKIE]
            flags = {
                name.lower() for name in ("HttpOnly", "Secure") if name.lower() in header.lower()
            }
            return {
                "value": morsel.value,
                "path": morsel["path"],
                "samesite": morsel["samesite"],
            } | {flag: True for flag in flags}
    raise AssertionError(f"no {SESSION_COOKIE} cookie in {response.headers}")


async def stored_hash(node: Node, username: str) -> str:
    async with node.instance.sessions() as session:
        found = await session.scalar(
            select(Account.password_hash).join(Actor).where(Actor.username == username)
        )
    assert found is not None
    return found


async def set_stored_hash(node: Node, username: str, password_hash: str) -> None:
    async with node.instance.sessions() as session:
        actor_id = await session.scalar(select(Actor.id).where(Actor.username == username))
        await session.execute(
            update(Account).where(Account.actor_id == actor_id).values(password_hash=password_hash)
        )
        await session.commit()


async def form_sign_in(
    client: httpx.AsyncClient, login: str, password: str, next_path: str = ""
) -> httpx.Response:
    fields = await csrf_for(client, f"/sign-in?next={next_path}", "/sign-in")
    return await client.post("/sign-in", data=fields | {"login": login, "password": password})


async def signed_in_as(client: httpx.AsyncClient) -> str | None:
    """Whom the settings page greets: None when it sends the browser to sign in."""
    page = await client.get("/settings")
    if page.status_code == 303:
        assert page.headers["location"] == "/sign-in?next=/settings"
        return None
    assert page.status_code == 200, page.text
    start = page.text.index('href="/users/') + len('href="/users/')
    return page.text[start : page.text.index('"', start)]


# Signing up, in and out


async def test_sign_up_then_out_then_in_again(nodes):
    a = await nodes("a.test", registration_mode="open")
    browser = a.client(follow_redirects=False)
    fields = await csrf_for(browser, "/sign-up?next=/settings", "/sign-up")
    assert fields["next"] == "/settings"
    form = {"username": "ada", "email": "ada@mail.test", "password": NEW_PASSWORD}
    joined = await browser.post("/sign-up", data=fields | form | {"agreement": "1"})
    assert joined.status_code == 303, joined.text
    assert joined.headers["location"] == "/settings"
    cookie = session_cookie(joined)
    assert cookie["path"] == "/" and cookie["samesite"].lower() == "lax"
    assert cookie.get("httponly") and cookie.get("secure")
    assert await signed_in_as(browser) == "ada"
    assert (await stored_hash(a, "ada")).startswith("$argon2id$")

    old_cookie = cookie["value"]
    out_fields = await csrf_for(browser, "/settings", "/sign-out")
    signed_out = await browser.post("/sign-out", data=out_fields)
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/"
    assert await signed_in_as(browser) is None
    replay = a.client(follow_redirects=False)
    replay.cookies.set(SESSION_COOKIE, old_cookie, domain=a.domain)
    assert await signed_in_as(replay) is None

    back = await form_sign_in(browser, "ada@mail.test", NEW_PASSWORD, "/settings/tokens")
    assert back.status_code == 303 and back.headers["location"] == "/settings/tokens"
    assert await signed_in_as(browser) == "ada"


async def test_sign_in_goes_only_to_local_pages(nodes):
    a = await nodes("a.test")
    await a.user("ada")
    for elsewhere in ("https://evil.test/", "//evil.test/", "/\\evil.test"):
        browser = a.client(follow_redirects=False)
        response = await form_sign_in(browser, "ada", PASSWORD, elsewhere)
        assert response.status_code == 303 and response.headers["location"] == "/"


async def test_a_refused_sign_up_keeps_what_was_typed_but_the_password(nodes):
    a = await nodes("a.test", registration_mode="approval")
    browser = a.client(follow_redirects=False)
    fields = await csrf_for(browser, "/sign-up", "/sign-up")
    form = {"username": "ada", "email": "ada@mail.test", "password": NEW_PASSWORD}
    refused = await browser.post("/sign-up", data=fields | form | {"agreement": "1"})
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text and "reason" in text_of(refused.text)
    assert 'value="ada@mail.test"' in refused.text and NEW_PASSWORD not in refused.text
    assert await count(a, Account) == 0

    fields = hidden_fields(refused.text, "/sign-up")
    asked = await browser.post(
        "/sign-up", data=fields | form | {"agreement": "1", "reason": "I build looms"}
    )
    assert asked.status_code == 200 and SESSION_COOKIE not in asked.headers.get("set-cookie", "")
    assert "approve" in text_of(asked.text)
    pending = await form_sign_in(browser, "ada", NEW_PASSWORD)
    assert pending.status_code == 403 and "approval" in text_of(pending.text)


# CSRF


async def test_forms_without_a_valid_csrf_field_are_refused_and_change_nothing(nodes):
    a = await nodes("a.test", registration_mode="open")
    browser = await signed_in_browser(a, "ada")
    settings_fields = await csrf_for(browser, "/settings", "/settings")
    change = {"display_name": "Changed", "summary": "", "entity_kind": "company"}
    stranger = a.client(follow_redirects=False)
    stranger.cookies.set(SESSION_COOKIE, browser.cookies[SESSION_COOKIE], domain=a.domain)
    signup = {
        "username": "eve",
        "email": "eve@mail.test",
        "password": NEW_PASSWORD,
        "agreement": "1",
    }
    sign_in_fields = await csrf_for(browser, "/sign-in", "/sign-in")
    attempts = [
        (browser, "/settings", change),  # no field at all
        (browser, "/settings", change | {FIELD: "x.1.y"}),  # a made-up field
        (browser, "/settings", change | {FIELD: sign_in_fields[FIELD]}),  # another form's
        (stranger, "/settings", change | {FIELD: settings_fields[FIELD]}),  # not its cookie
        (browser, "/sign-up", signup),
        (browser, "/sign-out", {}),
    ]
    for client, path, data in attempts:
        refused = await client.post(path, data=data)
        assert refused.status_code == 403, (path, refused.text)
        assert "reload the page" in refused.text
    # A browser gets the refusal as a page.
    page = await browser.post("/settings", data=change, headers={"Accept": "text/html,*/*"})
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert '<p role="alert">' in page.text and "reload the page" in page.text
    async with a.instance.sessions() as session:
        ada = await session.scalar(select(Actor).where(Actor.username == "ada"))
    assert ada is not None and ada.name == "ada" and ada.entity_kind == "individual"
    assert await count(a, Account) == 1
    assert await signed_in_as(browser) == "ada"


# Wrong passwords and the sign-in limits


async def oauth_form(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    app = await client.post(
        "/api/v1/apps", json={"client_name": "Test app", "redirect_uris": OOB, "scopes": "read"}
    )
    assert app.status_code == 200, app.text
    params = {
        "response_type": "code",
        "client_id": app.json()["client_id"],
        "redirect_uri": OOB,
        "scope": "read",
    }
    return await authorize_in_browser(
        client, f"/oauth/authorize?{urlencode(params)}", login, password
    )


async def token_sign_in(node: Node, login: str, password: str) -> httpx.Response:
    body = {"username": login, "password": password}
    return await call(node, "POST", "/api/v1/auth/token", json=body)


async def test_a_wrong_password_is_refused_without_echoing_it(nodes):
    a = await nodes("a.test")
    await a.user("ada")
    browser = a.client(follow_redirects=False)
    for login in ("ada", "nobody"):
        wrong = await form_sign_in(browser, login, "not the password")
        assert wrong.status_code == 401
        assert '<p role="alert"' in wrong.text and "password is wrong" in wrong.text
        assert f'value="{login}"' in wrong.text and "not the password" not in wrong.text
        assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


async def test_the_eleventh_failure_is_refused_on_every_sign_in_even_with_the_password(nodes):
    a = await nodes("a.test")
    await a.user("ada")
    await a.user("bob")
    browser = a.client(follow_redirects=False)
    assert MAX_PER_LOGIN == 10
    for attempt in range(MAX_PER_LOGIN):
        # The three ways to sign in with a password share one count; so do login and email.
        login = "ADA" if attempt % 2 else "ada@a.test"
        if attempt < 4:
            assert (await form_sign_in(browser, login, "wrong")).status_code == 401
        elif attempt < 7:
            assert (await oauth_form(browser, login, "wrong")).status_code == 401
        else:
            assert (await token_sign_in(a, login, "wrong")).status_code == 401

    refusals = [
        await form_sign_in(browser, "ada", PASSWORD),
        await oauth_form(browser, "ada", PASSWORD),
        await token_sign_in(a, "ada", PASSWORD),
    ]
    for refused in refusals:
        assert refused.status_code == 429, refused.text
        assert 0 < int(refused.headers["retry-after"]) <= WINDOW.total_seconds()
        assert "too many failed sign-ins for this account" in refused.text
        assert "Try again in 15 minutes" in refused.text
    assert SESSION_COOKIE not in refusals[0].headers.get("set-cookie", "")
    # Refused attempts are not counted: the wait does not grow.
    assert await count(a, SignInFailure, SignInFailure.key == "user:ada") == MAX_PER_LOGIN
    # Another person signing in from the same address is not held back.
    assert (await token_sign_in(a, "bob", PASSWORD)).status_code == 200

    async with a.instance.sessions() as session:
        await session.execute(
            update(SignInFailure).values(failed_at=utcnow() - WINDOW - dt.timedelta(seconds=1))
        )
        await session.commit()
    assert (await form_sign_in(browser, "ada", PASSWORD)).status_code == 303
    assert await count(a, SignInFailure, SignInFailure.key == "user:ada") == 0


async def test_guesses_sent_at_once_get_no_more_checks_than_the_limit(nodes):
    a = await nodes("a.test")
    await a.user("ada")
    answers = await asyncio.gather(
        *(token_sign_in(a, "ada", f"guess {n}") for n in range(4 * MAX_PER_LOGIN))
    )
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {401, 429} and statuses[401] <= MAX_PER_LOGIN, statuses
    assert await count(a, SignInFailure, SignInFailure.key == "user:ada") == statuses[401]
    # However the burst went, the limit holds for what follows.
    for n in range(MAX_PER_LOGIN + 1):
        statuses[(await token_sign_in(a, "ada", f"later {n}")).status_code] += 1
    assert statuses[401] == MAX_PER_LOGIN, statuses


async def test_one_address_failing_for_many_logins_is_held_back(nodes):
    a = await nodes("a.test")
    await a.user("ada")
    # Failures already counted for this client's address (the test client's 127.0.0.1).
    async with a.instance.sessions() as session:
        session.add_all(
            SignInFailure(
                key="ip:127.0.0.1", failed_at=utcnow() - dt.timedelta(minutes=10 - i / 10)
            )
            for i in range(MAX_PER_ADDRESS)
        )
        session.add(SignInFailure(key="ip:127.0.0.1", failed_at=utcnow() - dt.timedelta(hours=2)))
        await session.commit()
    refused = await token_sign_in(a, "ada", PASSWORD)
    assert refused.status_code == 429
    assert "from your network address" in refused.json()["error"]
    # The oldest failure leaves the window in about five minutes.
    assert 4 * 60 < int(refused.headers["retry-after"]) <= 5 * 60 + 1


# Password hashes


def old_scrypt_hash(password: str) -> str:
    """A hash as this server made them before argon2."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


async def test_old_password_hashes_are_upgraded_when_signing_in(nodes):
    a = await nodes("a.test")
    await a.user("ada")
    weak_argon2 = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    for old in (old_scrypt_hash(PASSWORD), weak_argon2.hash(PASSWORD)):
        await set_stored_hash(a, "ada", old)
        wrong = await token_sign_in(a, "ada", "not it")
        assert wrong.status_code == 401 and await stored_hash(a, "ada") == old

        signed_in = await form_sign_in(a.client(follow_redirects=False), "ada", PASSWORD)
        assert signed_in.status_code == 303
        upgraded = await stored_hash(a, "ada")
        assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert check_password(PASSWORD, upgraded) and not check_password("not it", upgraded)
        assert (await token_sign_in(a, "ada", PASSWORD)).status_code == 200
        assert await stored_hash(a, "ada") == upgraded


# Settings


async def test_settings_change_the_profile_and_reach_a_remote_follower(nodes):
    a, b = await nodes("a.test"), await nodes("b.test")
    browser = await signed_in_browser(a, "ada")
    _, bob_token = await b.user("bob")
    await b.post_outbox("bob", bob_token, {"type": "Follow", "object": "ada@a.test"})
    await settle(a, b)

    page = await browser.get("/settings")
    assert 'id="kind-cooperative"' in page.text and "worker-owned" in page.text
    fields = hidden_fields(page.text, "/settings")
    change = {"display_name": "Ada L.", "summary": "I make <looms>.", "entity_kind": "cooperative"}
    saved = await browser.post("/settings", data=fields | change)
    assert saved.status_code == 303 and saved.headers["location"] == "/settings?saved=1"
    shown = await browser.get("/settings?saved=1")
    assert "Saved." in shown.text and 'value="Ada L."' in shown.text
    assert "I make &lt;looms&gt;." in shown.text
    assert 'value="cooperative" checked' in shown.text

    profile = await call(a, "GET", "/users/ada", headers={"Accept": "application/activity+json"})
    doc = profile.json()
    assert doc["name"] == "Ada L." and doc["entityKind"] == "cooperative"
    assert "&lt;looms&gt;" in doc["summary"] and "<looms>" not in doc["summary"]
    await settle(a, b)
    async with b.instance.sessions() as session:
        seen = await session.scalar(select(Actor).where(Actor.uri == doc["id"]))
    assert seen is not None and seen.name == "Ada L." and seen.entity_kind == "cooperative"


async def test_a_wrong_entity_kind_is_shown_again_and_changes_nothing(nodes):
    a = await nodes("a.test")
    browser = await signed_in_browser(a, "ada")
    fields = await csrf_for(browser, "/settings", "/settings")
    change = {"display_name": "Ada L.", "summary": "", "entity_kind": "empire"}
    refused = await browser.post("/settings", data=fields | change)
    assert refused.status_code == 422
    assert '<p role="alert"' in refused.text and "individual, nonprofit" in refused.text
    assert 'value="Ada L."' in refused.text
    async with a.instance.sessions() as session:
        ada = await session.scalar(select(Actor).where(Actor.username == "ada"))
    assert ada is not None and ada.name == "ada" and ada.entity_kind == "individual"


async def test_settings_pages_send_strangers_to_sign_in(nodes):
    a = await nodes("a.test")
    browser = a.client(follow_redirects=False)
    for path in ("/settings", "/settings/tokens"):
        response = await browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/sign-in?next={path}"


async def test_a_new_password_signs_every_browser_out(nodes):
    a = await nodes("a.test")
    browser = await signed_in_browser(a, "ada")
    assert await signed_in_as(browser) == "ada"
    async with a.instance.sessions() as session:
        actor = await session.scalar(select(Actor).where(Actor.username == "ada"))
        assert actor is not None
        await set_password(session, actor, NEW_PASSWORD)
        await session.commit()
    assert await signed_in_as(browser) is None


# API tokens


async def test_the_tokens_page_lists_and_revokes_only_ones_own_tokens(nodes):
    a = await nodes("a.test")
    browser = await signed_in_browser(a, "ada")  # its account has a token labelled "test"
    async with a.instance.sessions() as session:
        ada = await session.scalar(select(Actor).where(Actor.username == "ada"))
    assert ada is not None
    reader = await app_token(a, ada, "read")
    _, bob_token = await a.user("bob")
    assert (await get(a, "/api/v1/accounts/verify_credentials", reader)).status_code == 200

    page = await browser.get("/settings/tokens")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "reader" in text and "test" in text and "never" in text
    ids = [
        hidden_fields(page.text.split(f'id="token-{i}"', 1)[1], "/settings/tokens/revoke")
        for i in _token_ids(page.text)
    ]
    assert len(ids) == 2

    async with a.instance.sessions() as session:
        bob_id = await session.scalar(select(Actor.id).where(Actor.username == "bob"))
    csrf = ids[0][FIELD]
    not_hers = await browser.post(
        "/settings/tokens/revoke", data={FIELD: csrf, "token_id": str(await _token_id(a, bob_id))}
    )
    assert not_hers.status_code == 404 and "no such token of yours" in not_hers.text
    assert (await get(a, "/api/v1/accounts/verify_credentials", bob_token)).status_code == 200

    app_token_id = str(await _token_id(a, ada.id, app=True))
    app_row = next(f for f in ids if f["token_id"] == app_token_id)
    revoked = await browser.post("/settings/tokens/revoke", data=app_row)
    assert revoked.status_code == 303
    assert revoked.headers["location"] == "/settings/tokens?revoked=1"
    assert (await get(a, "/api/v1/accounts/verify_credentials", reader)).status_code == 401
    after = await browser.get("/settings/tokens?revoked=1")
    assert "Revoked." in after.text and "reader" not in text_of(after.text)


def _token_ids(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('id="token-')[1:]]


async def _token_id(node: Node, actor_id: int | None, *, app: bool = False) -> int:
    async with node.instance.sessions() as session:
        query = select(ApiToken.id).where(ApiToken.actor_id == actor_id)
        query = query.where(ApiToken.app_id.is_not(None) if app else ApiToken.app_id.is_(None))
        found = await session.scalar(query)
    assert found is not None
    return found


# Security headers


async def test_pages_carry_a_strict_policy_and_json_does_not(nodes):
    a = await nodes("a.test")
    await a.user("ada")
    browser = a.client(follow_redirects=False)
    page = await browser.get("/sign-in")
    policy = page.headers["content-security-policy"]
    assert policy == page_policy("https") and "http:" not in policy
    for part in (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self' https:",
    ):
        assert part in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text and 'style="' not in page.text

    authorize = await oauth_form(browser, "ada", "wrong")
    oauth_policy = authorize.headers["content-security-policy"]
    assert "form-action" not in oauth_policy and "script-src 'self'" in oauth_policy

    for path, accept in (("/users/ada", "application/activity+json"), ("/api/v1/instance", "")):
        answer = await browser.get(path, headers={"Accept": accept} if accept else {})
        assert answer.status_code == 200 and "json" in answer.headers["content-type"]
        assert "content-security-policy" not in answer.headers
        assert "x-frame-options" not in answer.headers
