"""Reports, federated Flags, account actions and the audit log, on real instances.

The Mastodon Flag (tests/fixtures/mastodon/flag.json) has the shape of Mastodon's
ActivityPub::FlagSerializer output, as ReportService#forward_to_origin! sends it: the id is a
URI on the sending instance (TagManager#generate_uri_for: root URL + a UUID), the actor is
the instance actor (Account.representative, /actor), `content` is the comment and `object`
is [reported account, reported statuses...]. ActivityPub::Activity::Flag reads the same
shape. The instance actor document (instance_actor.json) follows Mastodon's
InstanceActorSerializer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.models import Actor
from actors.moderation import put_domain_block
from actors.moderation_models import AuditEntry, Report
from federation.blocks import NOOP
from federation.keys import generate_rsa_pem, load_rsa_private_pem
from outbox.models import OutboxActivity
from tests.mastodon import mastodon_fixture
from tests.support import Node, call, count, get, ourdesign, settle, signed_post

MASTODON_ACTOR = "https://mastodon.test/actor"
ACCEPT_ACTIVITY = {"Accept": "application/activity+json"}


async def post(node: Node, path: str, token: str, body: Any = None) -> httpx.Response:
    return await call(node, "POST", path, token, json=body if body is not None else {})


async def reports_on(node: Node) -> list[Report]:
    async with node.instance.sessions() as session:
        return list(await session.scalars(select(Report).order_by(Report.id)))


async def local_note(node: Node, username: str, token: str, text: str) -> str:
    posted = await node.post_outbox(username, token, {"type": "Note", "content": text})
    assert posted.status_code == 201, posted.text
    uri: str = posted.json()["object"]["id"]
    return uri


# --- a report forwarded from one instance to another -----------------------------------------


async def test_report_is_forwarded_as_an_anonymous_flag(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, alice_token = await a.user("alice")
    bob, bob_token = await b.user("bob")
    _, b_mod = await b.user("bmod", role="moderator")
    _, a_mod = await a.user("amod", role="moderator")
    followed = await b.post_outbox("bob", bob_token, {"type": "Follow", "object": "@alice@a.test"})
    assert followed.status_code == 201, followed.text
    await settle(a, b)
    note = await local_note(a, "alice", alice_token, "Buy cheap filament at spam.example")
    await settle(a, b)

    response = await post(
        b,
        "/api/v1/reports",
        bob_token,
        {
            "account_id": "alice@a.test",
            "status_ids": [note],
            "comment": "Advertising under every design",
            "category": "spam",
            "forward": True,
        },
    )
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["forwarded"] is True and shown["action_taken"] is False
    assert shown["category"] == "spam" and shown["status_ids"] == [note]
    assert shown["target_account"]["acct"] == "alice@a.test"
    assert shown["target_account"]["username"] == "alice"
    await settle(a, b)

    (received,) = await reports_on(a)
    assert received.target_id == alice.id and received.reporter_id is None
    assert received.origin_domain == "b.test"
    assert received.comment == "Advertising under every design"
    assert received.object_uris == [note]
    assert received.uri == f"https://b.test/reports/{shown['id']}"

    # The Flag came from b's instance actor: bob is not named anywhere in it.
    async with b.instance.sessions() as session:
        flag = await session.scalar(select(OutboxActivity).where(OutboxActivity.type == "Flag"))
    assert flag is not None
    assert flag.payload["actor"] == "https://b.test/actor"
    assert flag.payload["object"] == [alice.uri, note]
    assert bob.uri not in json.dumps(flag.payload)

    queue = await get(a, "/api/v1/admin/reports", a_mod)
    (entry,) = queue.json()
    assert entry["account"] is None and entry["origin_domain"] == "b.test"
    assert entry["target_account"]["account"]["acct"] == "alice"
    assert entry["statuses"] == [note]

    local = await get(b, "/api/v1/admin/reports?resolved=false", b_mod)
    (mine,) = local.json()
    assert mine["forwarded"] is True and mine["origin_domain"] is None
    assert mine["account"]["account"]["acct"] == "bob"
    assert mine["target_account"]["domain"] == "a.test"


# --- a Flag as Mastodon sends it ---------------------------------------------------------------


def mastodon_app(actor: dict[str, Any]) -> Starlette:
    async def serve_actor(request: Request) -> Response:
        return Response(json.dumps(actor), media_type="application/activity+json")

    return Starlette(routes=[Route("/actor", serve_actor)])


async def deliver_flag(od: Node, flag: dict[str, Any], key: Any) -> httpx.Response:
    body = json.dumps(flag).encode()
    return await signed_post(od, "/inbox", body, f"{MASTODON_ACTOR}#main-key", key)


async def test_mastodon_flag_files_one_report(nodes: Any, network: Any) -> None:
    od = await nodes("od.test")
    bob, bob_token = await od.user("bob")
    note = await local_note(od, "bob", bob_token, "Free printers, click here")
    private_pem, public_pem = generate_rsa_pem()
    actor = mastodon_fixture("instance_actor")
    actor["publicKey"]["publicKeyPem"] = public_pem
    network.add("mastodon.test", mastodon_app(actor))
    flag = mastodon_fixture("flag", OD="https://od.test", LOCAL_NOTE=note)
    key = load_rsa_private_pem(private_pem)

    for _ in range(2):  # Mastodon retries deliveries; the second changes nothing
        response = await deliver_flag(od, flag, key)
        assert response.status_code == 202, response.text
        await settle(od)

    (report,) = await reports_on(od)
    assert report.uri == flag["id"] and report.origin_domain == "mastodon.test"
    assert report.target_id == bob.id and report.reporter_id is None
    assert report.object_uris == [note] and report.comment == flag["content"]

    # A Flag naming nothing of ours is ignored.
    elsewhere = {**flag, "id": "https://mastodon.test/1d", "object": ["https://x.test/u/1"]}
    assert (await deliver_flag(od, elsewhere, key)).status_code == 202
    # So is one from a domain whose block rejects its reports.
    async with od.instance.sessions() as session:
        await put_domain_block(
            session, "mastodon.test", local_host=od.domain, severity=NOOP, reject_reports=True
        )
        await session.commit()
    await od.instance.reload_blocks()
    blocked = {**flag, "id": "https://mastodon.test/2d"}
    assert (await deliver_flag(od, blocked, key)).status_code == 202
    await settle(od)
    assert len(await reports_on(od)) == 1


# --- account actions ---------------------------------------------------------------------------


async def test_suspending_the_reported_account_resolves_the_report(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, alice_token = await a.user("alice")
    _, carol_token = await a.user("carol")
    mod, mod_token = await a.user("mod", role="moderator")
    filed = await post(
        a, "/api/v1/reports", carol_token, {"account_id": str(alice.id), "comment": "rude"}
    )
    assert filed.status_code == 200, filed.text
    report_id = filed.json()["id"]
    assert filed.json()["forwarded"] is False  # a local target: nothing to forward

    taken = await post(
        a,
        f"/api/v1/admin/accounts/{alice.id}/action",
        mod_token,
        {"type": "suspend", "report_id": report_id, "text": "repeated abuse"},
    )
    assert taken.status_code == 200, taken.text

    report = (await get(a, f"/api/v1/admin/reports/{report_id}", mod_token)).json()
    assert report["action_taken"] is True and report["action"] == "suspend"
    assert report["action_taken_at"] is not None
    assert report["target_account"]["suspended"] is True
    assert (await get(a, "/api/v1/admin/reports", mod_token)).json() == []

    log = (await get(a, "/api/v1/admin/audit_log", mod_token)).json()
    assert [e["action"] for e in log] == ["report.resolve", "account.suspend"]
    suspend = log[1]
    assert suspend["moderator"]["acct"] == "mod" and suspend["target"] == alice.uri
    assert suspend["detail"]["text"] == "repeated abuse"

    # Suspended: the token is refused and the account is gone from the outside.
    refused = await post(a, "/api/v1/reports", alice_token, {"account_id": "carol"})
    assert refused.status_code == 403 and "suspended" in refused.json()["error"]
    actor_doc = await call(a, "GET", "/users/alice", headers=ACCEPT_ACTIVITY)
    assert actor_doc.status_code == 404 and "suspended" in actor_doc.json()["error"]
    finger = await get(a, "/.well-known/webfinger?resource=acct:alice@a.test")
    assert finger.status_code == 404

    restored = await post(a, f"/api/v1/admin/accounts/{alice.id}/unsuspend", mod_token)
    assert restored.status_code == 200, restored.text
    assert (await call(a, "GET", "/users/alice", headers=ACCEPT_ACTIVITY)).status_code == 200
    assert (await get(a, "/.well-known/webfinger?resource=acct:alice@a.test")).status_code == 200
    ok = await post(a, "/api/v1/reports", alice_token, {"account_id": "carol"})
    assert ok.status_code == 200, ok.text
    log = await get(a, "/api/v1/admin/audit_log?limit=1", mod_token)
    assert log.json()[0]["action"] == "account.unsuspend" and 'rel="next"' in log.headers["link"]
    unsuspend = log.json()[0]
    assert unsuspend["moderator"]["id"] == str(mod.id) and unsuspend["target"] == alice.uri


async def test_remote_accounts_can_be_silenced_and_queue_is_worked(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    bob, _ = await b.user("bob")
    _, alice_token = await a.user("alice")
    mod, mod_token = await a.user("mod", role="moderator")
    filed = await post(a, "/api/v1/reports", alice_token, {"account_id": bob.uri})
    assert filed.status_code == 200, filed.text
    report_id = filed.json()["id"]
    remote_id = filed.json()["target_account"]["id"]

    path = f"/api/v1/admin/reports/{report_id}"
    assigned = (await post(a, f"{path}/assign_to_self", mod_token)).json()
    assert assigned["assigned_account"]["account"]["acct"] == "mod"
    assert (await post(a, f"{path}/unassign", mod_token)).json()["assigned_account"] is None
    resolved = (await post(a, f"{path}/resolve", mod_token)).json()
    assert resolved["action_taken"] is True and resolved["action"] == "none"
    reopened = (await post(a, f"{path}/reopen", mod_token)).json()
    assert reopened["action_taken"] is False

    silenced = await post(
        a, f"/api/v1/admin/accounts/{remote_id}/action", mod_token, {"type": "silence"}
    )
    assert silenced.status_code == 200, silenced.text
    async with a.instance.sessions() as session:
        remote = await session.get(Actor, int(remote_id))
        assert remote is not None and remote.silenced_at is not None and not remote.local
    assert (await post(a, f"/api/v1/admin/accounts/{remote_id}/unsilence", mod_token)).is_success
    log = (await get(a, "/api/v1/admin/audit_log", mod_token)).json()
    assert [e["action"] for e in log] == [
        "account.unsilence",
        "account.silence",
        "report.reopen",
        "report.resolve",
        "report.unassign",
        "report.assign",
    ]
    assert all(e["moderator"]["id"] == str(mod.id) for e in log)


# --- who may, and bad input --------------------------------------------------------------------


async def test_members_are_refused_and_bad_input_changes_nothing(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, alice_token = await a.user("alice")
    admin, _ = await a.user("root", role="admin")
    _, mod_token = await a.user("mod", role="moderator")
    for path in ("/api/v1/admin/reports", "/api/v1/admin/audit_log"):
        refused = await get(a, path, alice_token)
        assert refused.status_code == 403 and "moderator" in refused.json()["error"]
    refused = await post(a, f"/api/v1/admin/accounts/{admin.id}/action", alice_token, {})
    assert refused.status_code == 403

    bad_requests = [
        ("/api/v1/reports", alice_token, {"account_id": "999999"}, 404),
        ("/api/v1/reports", alice_token, {"account_id": "nobody@a.test"}, 404),
        ("/api/v1/reports", alice_token, {"account_id": "root", "category": "rude"}, 422),
        ("/api/v1/reports", alice_token, {"account_id": "root", "status_ids": ["1"]}, 422),
        ("/api/v1/reports", alice_token, {"account_id": "alice"}, 422),
        ("/api/v1/reports", alice_token, {"comment": "no target"}, 400),
        ("/api/v1/admin/reports/77/resolve", mod_token, {}, 404),
        (f"/api/v1/admin/accounts/{alice.id}/action", mod_token, {"type": "ban"}, 422),
        (
            f"/api/v1/admin/accounts/{alice.id}/action",
            mod_token,
            {"type": "suspend", "report_id": "77"},
            404,
        ),
        (f"/api/v1/admin/accounts/{admin.id}/action", mod_token, {"type": "suspend"}, 403),
        ("/api/v1/admin/accounts/999999/action", mod_token, {"type": "suspend"}, 404),
    ]
    for path, token, body, status in bad_requests:
        response = await post(a, path, token, body)
        assert response.status_code == status, (path, body, response.text)
        assert response.json()["error"], path

    async with a.instance.sessions() as session:
        instance_actor = await session.scalar(
            select(Actor).where(Actor.uri == "https://a.test/actor")
        )
        assert instance_actor is not None
    response = await post(
        a, f"/api/v1/admin/accounts/{instance_actor.id}/action", mod_token, {"type": "suspend"}
    )
    assert response.status_code == 403 and "instance actor" in response.json()["error"]

    assert await reports_on(a) == [] and await count(a, AuditEntry) == 0
    async with a.instance.sessions() as session:
        suspended = await session.scalar(
            select(func.count()).select_from(Actor).where(Actor.suspended_at.is_not(None))
        )
    assert suspended == 0


# --- the command line --------------------------------------------------------------------------


def test_cli_suspends_and_audits(tmp_path: Path) -> None:
    ourdesign(tmp_path, "user", "create", "ada", "--email", "ada@coop.test", "--password", "x" * 12)
    assert (
        "suspend: ada@coop.test"
        in ourdesign(tmp_path, "user", "suspend", "ada", "--reason", "spam wave").stdout
    )
    log = ourdesign(tmp_path, "audit").stdout
    assert "account.suspend" in log and "by cli" in log and "spam wave" in log
    assert "unsuspend: ada@coop.test" in ourdesign(tmp_path, "user", "unsuspend", "ada").stdout
    assert "no reports" in ourdesign(tmp_path, "reports", "list").stdout
    missing = ourdesign(tmp_path, "user", "silence", "nobody", check=False)
    assert missing.returncode != 0 and "nobody" in missing.stderr
    unknown = ourdesign(tmp_path, "reports", "resolve", "5", check=False)
    assert unknown.returncode != 0 and "no report 5" in unknown.stderr
