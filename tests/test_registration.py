"""Accounts on real instances: every registration mode, mail through a real SMTP server on
loopback, signing in, password reset, invites, sign-up moderation and roles."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from actors.models import Account, AccountToken, Actor, Invite, OutgoingMail
from actors.moderation_models import AuditEntry
from federation.db import utcnow
from federation.queue import DONE, PENDING
from tests.live import free_port
from tests.support import PASSWORD as NODE_USER_PASSWORD
from tests.support import Node, audit_actions, call, count, ourdesign

PASSWORD = "long enough"


class Mailbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def bodies_to(self, address: str) -> list[str]:
        return [m.get_content() for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def settings(self) -> dict[str, Any]:
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_security": "none"}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


# Helpers


async def register(node: Node, username: str, **fields: Any) -> httpx.Response:
    body = {
        "username": username,
        "email": f"{username}@mail.test",
        "password": PASSWORD,
        "agreement": True,
        **fields,
    }
    return await call(node, "POST", "/api/v1/accounts", json=body)


async def sign_in(node: Node, login: str, password: str = PASSWORD) -> httpx.Response:
    return await call(
        node, "POST", "/api/v1/auth/token", json={"username": login, "password": password}
    )


async def send_mail(node: Node) -> int:
    worker = node.instance.mail_worker
    assert worker is not None
    return await worker.run_once()


def confirm_path(body: str) -> str:
    match = re.search(r"https://a\.test(/auth/confirm\?token=[\w-]+)", body)
    assert match, body
    return match[1]


async def new_invite(node: Node, token: str, **fields: Any) -> dict[str, Any]:
    response = await call(node, "POST", "/api/v1/invites", token, json=fields)
    assert response.status_code == 200, response.text
    return response.json()


# Open registration


async def test_open_with_mail_confirms_through_the_mailed_link(nodes, smtp):
    a = await nodes("a.test", registration_mode="open", **smtp.settings)
    response = await register(a, "ada", locale="en")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "pending_confirmation"
    assert response.json()["pending_approval"] is False
    assert "ada@mail.test" in response.json()["message"]

    refused = await sign_in(a, "ada")
    assert refused.status_code == 403
    assert "ada@mail.test" in refused.json()["error"]
    assert "/api/v1/accounts/confirmation" in refused.json()["error"]

    assert await send_mail(a) == 1
    [first] = smtp.mailbox.bodies_to("ada@mail.test")
    resent = await call(a, "POST", "/api/v1/accounts/confirmation", json={"email": "ada@mail.test"})
    unknown = await call(a, "POST", "/api/v1/accounts/confirmation", json={"email": "x@mail.test"})
    assert resent.status_code == unknown.status_code == 202
    assert await send_mail(a) == 1
    assert len(smtp.mailbox.bodies_to("ada@mail.test")) == 2
    assert smtp.mailbox.messages[0]["From"].endswith("<noreply@a.test>")

    page = await call(a, "GET", confirm_path(first))
    assert page.status_code == 200 and "Address confirmed" in page.text
    again = await call(a, "GET", confirm_path(first))
    assert again.status_code == 410 and "used already" in again.text
    bogus = await call(a, "GET", "/auth/confirm?token=nonsense")
    assert bogus.status_code == 400

    signed_in = await sign_in(a, "ada")
    assert signed_in.status_code == 200, signed_in.text
    listed = await call(a, "GET", "/api/v1/invites", signed_in.json()["token"])
    assert listed.status_code == 200


async def test_confirmation_link_expires_after_two_days(nodes, smtp):
    a = await nodes("a.test", registration_mode="open", **smtp.settings)
    assert (await register(a, "ada")).status_code == 200
    await send_mail(a)
    [body] = smtp.mailbox.bodies_to("ada@mail.test")
    async with a.instance.sessions() as session:
        await session.execute(
            update(AccountToken).values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
        await session.commit()
    page = await call(a, "GET", confirm_path(body))
    assert page.status_code == 410 and "expired" in page.text
    assert (await sign_in(a, "ada")).status_code == 403


async def test_open_without_mail_signs_in_at_once(nodes):
    a = await nodes("a.test", registration_mode="open")
    form = {"username": "ada", "email": "ada@mail.test", "password": PASSWORD, "agreement": "1"}
    response = await call(a, "POST", "/api/v1/accounts", data=form)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "active"
    assert (await sign_in(a, "ada")).status_code == 200
    assert (await sign_in(a, "ada@mail.test")).status_code == 200

    wrong = await sign_in(a, "ada", "wrong password")
    unknown = await sign_in(a, "nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()

    for path, body in [
        ("/api/v1/accounts/password_reset", {"email": "ada@mail.test"}),
        ("/api/v1/accounts/password_reset/confirm", {"token": "x", "password": PASSWORD}),
    ]:
        refused = await call(a, "POST", path, json=body)
        assert refused.status_code == 503
        assert "ourdesign user password" in refused.json()["error"]


async def test_bad_registrations_change_nothing(nodes):
    a = await nodes("a.test", registration_mode="open")
    await a.user("taken")
    before = await count(a, Account)
    good = {"username": "ada", "email": "ada@mail.test", "password": PASSWORD, "agreement": True}
    cases = [
        ({k: v for k, v in good.items() if k != "username"}, 422, "username"),
        ({k: v for k, v in good.items() if k != "email"}, 422, "email"),
        ({**good, "password": "short"}, 422, "8 characters"),
        ({**good, "username": "taken"}, 409, "taken"),
        ({**good, "email": "taken@a.test"}, 409, "exists"),
        ({**good, "agreement": False}, 422, "agreement"),
        ({**good, "username": "Not Valid"}, 422, "user name"),
        ({**good, "invite_code": "nonexistent"}, 422, "no invite"),
    ]
    for body, status, words in cases:
        response = await call(a, "POST", "/api/v1/accounts", json=body)
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["error"]
    assert (await call(a, "POST", "/api/v1/accounts", content=b"[")).status_code == 400
    assert await count(a, Account) == before


# Approval


async def test_approval_needs_a_moderator(nodes):
    a = await nodes("a.test", registration_mode="approval")
    _, member = await a.user("mia")
    moderator, mod_token = await a.user("moe", role="moderator")
    _, admin_token = await a.user("ann", role="admin")

    no_reason = await register(a, "ada")
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]
    response = await register(a, "ada", reason="I build lamps")
    assert response.status_code == 200
    assert response.json()["state"] == "pending_approval"
    ada_id = response.json()["id"]
    refused = await sign_in(a, "ada")
    assert refused.status_code == 403 and "approval" in refused.json()["error"]

    for method, path in [
        ("GET", "/api/v1/admin/accounts?status=pending"),
        ("POST", f"/api/v1/admin/accounts/{ada_id}/approve"),
        ("POST", f"/api/v1/admin/accounts/{ada_id}/reject"),
    ]:
        assert (await call(a, method, path, member)).status_code == 403
    assert (await call(a, "GET", "/api/v1/admin/accounts")).status_code == 401

    pending = await call(a, "GET", "/api/v1/admin/accounts?status=pending", mod_token)
    assert [(p["username"], p["invite_request"]) for p in pending.json()] == [
        ("ada", "I build lamps")
    ]
    assert pending.json()[0]["domain"] is None and pending.json()[0]["approved"] is False
    approved = await call(a, "POST", f"/api/v1/admin/accounts/{ada_id}/approve", mod_token)
    assert approved.status_code == 200 and approved.json()["approved"] is True
    twice = await call(a, "POST", f"/api/v1/admin/accounts/{ada_id}/approve", mod_token)
    assert twice.status_code == 422
    assert (await sign_in(a, "ada")).status_code == 200
    async with a.instance.sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "approve_account")
        )
    assert entry is not None and entry.moderator_id == moderator.id

    bob = (await register(a, "bob", reason="spam")).json()["id"]
    rejected = await call(a, "POST", f"/api/v1/admin/accounts/{bob}/reject", mod_token)
    assert rejected.status_code == 200
    async with a.instance.sessions() as session:
        assert await session.get(Actor, int(bob)) is None
    assert (await sign_in(a, "bob")).status_code == 401
    assert "reject_account" in await audit_actions(a)
    everyone = await call(a, "GET", "/api/v1/admin/accounts?status=all", admin_token)
    assert {p["username"] for p in everyone.json()} == {"mia", "moe", "ann", "ada"}
    bad = await call(a, "GET", "/api/v1/admin/accounts?status=odd", admin_token)
    assert bad.status_code == 422


async def test_roles_are_set_by_admins_only(nodes):
    a = await nodes("a.test")
    ann, admin_token = await a.user("ann", role="admin")
    mia, member = await a.user("mia")
    _, mod_token = await a.user("moe", role="moderator")
    path = f"/api/v1/admin/accounts/{mia.id}/role"
    for token in (member, mod_token):
        response = await call(a, "PUT", path, token, json={"role": "admin"})
        assert response.status_code == 403
    odd = await call(a, "PUT", path, admin_token, json={"role": "king"})
    assert odd.status_code == 422 and "member" in odd.json()["error"]
    made = await call(a, "PUT", path, admin_token, json={"role": "moderator"})
    assert made.status_code == 200 and made.json()["role"] == "moderator"
    assert (await call(a, "GET", "/api/v1/admin/accounts", member)).status_code == 200
    last = await call(
        a, "PUT", f"/api/v1/admin/accounts/{ann.id}/role", admin_token, json={"role": "member"}
    )
    assert last.status_code == 422 and "only admin" in last.json()["error"]
    assert await audit_actions(a) == ["change_role"]


async def test_approval_with_mail_reports_both_steps_and_notifies(nodes, smtp):
    a = await nodes("a.test", registration_mode="approval", **smtp.settings)
    _, mod_token = await a.user("moe", role="moderator")
    body = (await register(a, "ada", reason="lamps")).json()
    assert body["state"] == "pending_confirmation"
    assert body["pending_confirmation"] is True and body["pending_approval"] is True
    assert "confirm" in body["message"] and "moderator" in body["message"]
    await call(a, "POST", f"/api/v1/admin/accounts/{body['id']}/approve", mod_token)
    assert await send_mail(a) == 2
    subjects = [m["Subject"] for m in smtp.mailbox.messages]
    assert any(s.startswith("Welcome") for s in subjects)


# Invites


async def test_invite_mode_needs_a_valid_code(nodes):
    a = await nodes("a.test", registration_mode="invite")
    _, member = await a.user("mia")
    _, other = await a.user("oli")

    refused = await register(a, "ada")
    assert refused.status_code == 403 and "invit" in refused.json()["error"]

    once = await new_invite(a, member, max_uses=1, expires_in=3600)
    assert once["url"] == f"https://a.test/invite/{once['code']}"
    assert once["max_uses"] == 1 and once["uses"] == 0 and once["expires_at"]
    shown = await call(a, "GET", f"/invite/{once['code']}")
    assert shown.status_code == 200 and shown.json()["valid"] is True
    page = await call(a, "GET", f"/invite/{once['code']}", headers={"accept": "text/html"})
    assert "<h1>" in page.text and once["code"] in page.text

    admitted = await register(a, "ada", invite_code=once["code"])
    assert admitted.status_code == 200 and admitted.json()["state"] == "active"
    assert (await sign_in(a, "ada")).status_code == 200
    used_up = await register(a, "bob", invite_code=once["code"])
    assert used_up.status_code == 422 and "used as often" in used_up.json()["error"]
    listed = await call(a, "GET", "/api/v1/invites", member)
    assert [(i["code"], i["uses"], i["valid"]) for i in listed.json()] == [(once["code"], 1, False)]

    expiring = await new_invite(a, member)
    async with a.instance.sessions() as session:
        await session.execute(
            update(Invite)
            .where(Invite.code == expiring["code"])
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
        await session.commit()
    expired = await register(a, "bob", invite_code=expiring["code"])
    assert expired.status_code == 422 and "expired" in expired.json()["error"]

    revocable = await new_invite(a, member)
    not_theirs = await call(a, "DELETE", f"/api/v1/invites/{revocable['code']}", other)
    assert not_theirs.status_code == 403
    revoked = await call(a, "DELETE", f"/api/v1/invites/{revocable['code']}", member)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    refused = await register(a, "bob", invite_code=revocable["code"])
    assert refused.status_code == 422 and "revoked" in refused.json()["error"]
    assert (await call(a, "GET", f"/invite/{revocable['code']}")).status_code == 410
    assert (await call(a, "GET", "/invite/unknown")).status_code == 404
    assert await count(a, Account) == 3

    bad = await call(a, "POST", "/api/v1/invites", member, json={"max_uses": 0})
    assert bad.status_code == 422


async def test_closed_admits_only_with_a_staff_invite(nodes):
    a = await nodes("a.test", registration_mode="closed")
    _, member = await a.user("mia")
    _, admin = await a.user("ann", role="admin")
    refused = await register(a, "ada", reason="please")
    assert refused.status_code == 403 and "closed" in refused.json()["error"]
    assert (await call(a, "POST", "/api/v1/invites", member, json={})).status_code == 403
    invite = await new_invite(a, admin)
    admitted = await register(a, "ada", invite_code=invite["code"])
    assert admitted.status_code == 200 and admitted.json()["state"] == "active"
    async with a.instance.sessions() as session:
        account = await session.get(Account, int(admitted.json()["id"]))
        assert account is not None and account.invite_id is not None


# Password reset and the mail queue


async def test_password_reset_through_the_mailed_token(nodes, smtp):
    a = await nodes("a.test", registration_mode="open", **smtp.settings)
    _, old_token = await a.user("ada")
    for address in ("ada@a.test", "nobody@a.test"):
        asked = await call(a, "POST", "/api/v1/accounts/password_reset", json={"email": address})
        assert asked.status_code == 202
    assert await send_mail(a) == 1
    [body] = smtp.mailbox.bodies_to("ada@a.test")
    token = re.search(r"valid for one hour:\s+(\S+)", body)[1]  # type: ignore[index]

    path = "/api/v1/accounts/password_reset/confirm"
    short = await call(a, "POST", path, json={"token": token, "password": "short"})
    assert short.status_code == 422
    assert (await call(a, "GET", "/api/v1/invites", old_token)).status_code == 200
    done = await call(a, "POST", path, json={"token": token, "password": "a new password"})
    assert done.status_code == 200, done.text
    assert (await call(a, "GET", "/api/v1/invites", old_token)).status_code == 401
    assert (await sign_in(a, "ada", NODE_USER_PASSWORD)).status_code == 401
    assert (await sign_in(a, "ada", "a new password")).status_code == 200
    reused = await call(a, "POST", path, json={"token": token, "password": "another one"})
    assert reused.status_code == 410


async def test_mail_is_retried_until_the_server_is_up(nodes, smtp_down):
    a = await nodes("a.test", registration_mode="open", **smtp_down.settings)
    assert (await register(a, "ada")).status_code == 200
    assert await send_mail(a) == 1
    async with a.instance.sessions() as session:
        row = await session.scalar(select(OutgoingMail))
    assert row is not None and row.state == PENDING and row.attempts == 1 and row.last_error
    assert await send_mail(a) == 0  # backing off

    smtp_down.start()
    worker = a.instance.mail_worker
    assert worker is not None
    worker.clock = lambda: utcnow() + dt.timedelta(hours=1)
    assert await send_mail(a) == 1
    async with a.instance.sessions() as session:
        row = await session.scalar(select(OutgoingMail))
    assert row is not None and row.state == DONE and row.attempts == 2
    assert smtp_down.mailbox.bodies_to("ada@mail.test")


# Command line


def test_cli_roles_passwords_and_invites(tmp_path):
    ourdesign(
        tmp_path,
        "user",
        "create",
        "ann",
        "--email",
        "ann@coop.test",
        "--password",
        PASSWORD,
        "--role",
        "admin",
    )
    ourdesign(tmp_path, "user", "create", "mia", "--email", "mia@coop.test", "--password", PASSWORD)
    listed = ourdesign(tmp_path, "user", "list").stdout
    assert "ann\tann@coop.test\tadmin\tapproved" in listed
    assert "mia\tmia@coop.test\tmember" in listed
    assert "moderator" in ourdesign(tmp_path, "user", "role", "mia", "moderator").stdout
    assert ourdesign(tmp_path, "user", "list", "--pending").stdout == ""
    demoted = ourdesign(tmp_path, "user", "role", "ann", "member", check=False)
    assert demoted.returncode != 0 and "only admin" in demoted.stderr
    assert "approved already" in ourdesign(tmp_path, "user", "approve", "mia", check=False).stderr
    changed = ourdesign(tmp_path, "user", "password", "mia", "--password", "a new password")
    assert "changed" in changed.stdout
    short = ourdesign(tmp_path, "user", "password", "mia", "--password", "short", check=False)
    assert short.returncode != 0 and "8 characters" in short.stderr

    url = ourdesign(tmp_path, "invite", "create", "--expires-in", "7d", "--max-uses", "2").stdout
    code = url.strip().rsplit("/", 1)[1]
    assert url.startswith("https://coop.test/invite/")
    assert f"{code}\t0/2 uses" in ourdesign(tmp_path, "invite", "list").stdout
    ourdesign(tmp_path, "invite", "revoke", code)
    assert "not valid" in ourdesign(tmp_path, "invite", "list").stdout
    odd = ourdesign(tmp_path, "invite", "create", "--expires-in", "soon", check=False)
    assert odd.returncode != 0 and "12h" in odd.stderr
