"""Domain blocks across real instances: nothing in, nothing out, nothing shown; and lifted.

a.test's moderator blocks b.test through the admin API; b.test keeps trying to talk to
a.test and a.test's people keep publishing to b.test's followers. Everything goes through
the real signed HTTP between the in-process instances and their real workers.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import select

from actors.moderation_models import AuditEntry, DomainBlock
from federation.blocks import NOOP, SILENCE, SUSPEND, DomainBlocks, DomainRule
from federation.queue import FAILED
from inbox.models import InboxItem
from objects.models import Note
from outbox.models import Delivery
from tests.support import Node, call, cli_env, count, get, run_cli, settle
from tests.test_design_federation import (
    activity_json,
    api_post,
    new_project,
    publish,
    version_row,
)

ADMIN = "/api/v1/admin/domain_blocks"


def refused(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    for word in words:
        assert word in message, message


async def admin(
    node: Node, token: str, method: str, path: str = ADMIN, **kw: Any
) -> httpx.Response:
    return await call(node, method, path, token, **kw)


def federation_requests(node: Node, host: str) -> list[str]:
    """Requests that reached `host` from an instance (the test's own API calls left out)."""
    return [
        f"{r.method} {r.url}"
        for r in node.network.requests
        if r.url.host == host and not r.url.path.startswith("/api/")
    ]


async def listed(node: Node, **params: str) -> list[str]:
    response = await get(node, "/api/v1/designs", **params)
    assert response.status_code == 200, response.text
    return [project["id"] for project in response.json()]


async def replies_of(node: Node, path: str) -> list[str]:
    page: list[str] = (await activity_json(node, f"{path}?page=true"))["orderedItems"]
    return page


# --- the policy itself (no database) -----------------------------------------------------------


def test_a_block_covers_subdomains_and_ports_and_the_most_specific_rule_wins() -> None:
    blocks = DomainBlocks(
        [DomainRule("b.test", SUSPEND), DomainRule("ok.b.test", NOOP, reject_media=True)]
    )
    for blocked in (
        "b.test",
        "B.Test.",
        "b.test:8443",
        "sub.b.test",
        "https://deep.sub.b.test:8443/users/x#main-key",
        "@bob@b.test",
    ):
        assert blocks.is_suspended(blocked), blocked
    for free in ("notb.test", "b.test.example", "a.test", "ok.b.test", "https://ok.b.test/x"):
        assert not blocks.is_suspended(free), free
    assert blocks.rejects_media("ok.b.test:80") and blocks.rejects_media("b.test")
    assert not blocks.rejects_media("a.test")
    silenced = DomainBlocks([DomainRule("quiet.test", SILENCE)])
    assert silenced.is_silenced("x.quiet.test:1") and not silenced.is_suspended("quiet.test")


# --- suspend, then lift -------------------------------------------------------------------------


async def test_suspending_a_domain_stops_everything_and_lifting_restores_it(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, mod_token = await a.user("mod", role="moderator")
    _, bob_token = await b.user("bob")
    await new_project(a, alice_token, "gearbox")
    bobgear = await new_project(b, bob_token, "bobgear")

    # Each follows the other's project; Bob's design and comment reach a.test.
    for node, token, target in (
        (a, alice_token, "@bobgear@b.test"),
        (b, bob_token, "@gearbox@a.test"),
    ):
        assert (
            await api_post(node, token, "/api/v1/follows", {"target": target})
        ).status_code == 202
    await settle(a, b)
    bob_version = (await publish(b, bob_token, "bobgear", "CC-BY-SA-4.0"))["id"]
    alice_version = (await publish(a, alice_token, "gearbox", "CC-BY-SA-4.0"))["id"]
    await settle(a, b)
    comment = await api_post(
        b, bob_token, "/api/v1/comments", {"in_reply_to": alice_version, "content": "Nice"}
    )
    assert comment.status_code == 201, comment.text
    await settle(a, b)
    replies = "/users/gearbox/versions/1/replies"
    assert await replies_of(a, replies) == [comment.json()["id"]]
    assert bobgear["id"] in await listed(a) and bobgear["id"] in await listed(a, q="Bobgear")
    assert (await get(a, "/api/v1/versions", uri=bob_version)).status_code == 200

    # Bob comments again; it reaches a.test's inbox but is not processed before the block.
    late = await api_post(
        b, bob_token, "/api/v1/comments", {"in_reply_to": alice_version, "content": "Late"}
    )
    await b.instance.delivery_worker.run_once()
    assert await count(a, InboxItem, InboxItem.activity_uri.contains("b.test")) >= 1

    # The moderator suspends b.test.
    block = await admin(
        a,
        mod_token,
        "POST",
        json={"domain": "b.test", "severity": "suspend", "public_comment": "spam"},
    )
    assert block.status_code == 200, block.text
    entity = block.json()
    assert entity["domain"] == "b.test" and entity["severity"] == "suspend"
    assert entity["digest"] == hashlib.sha256(b"b.test").hexdigest()
    assert isinstance(entity["id"], str) and entity["created_at"].endswith("Z")
    requests_to_b = len(federation_requests(a, "b.test"))

    # What arrived before the block is dropped, not stored.
    await settle(a, b)
    assert await count(a, Note, Note.uri == late.json()["id"]) == 0

    # Bob's instance's signed POSTs are refused with a reason naming the block.
    refused_comment = await api_post(
        b, bob_token, "/api/v1/comments", {"in_reply_to": alice_version, "content": "Hello?"}
    )
    assert refused_comment.status_code == 201, refused_comment.text
    await settle(a, b)
    async with b.instance.sessions() as session:
        row = (await session.scalars(select(Delivery).order_by(Delivery.id.desc()))).first()
    assert row is not None and row.state == FAILED and row.last_status == 403
    assert "b.test is blocked by this instance's moderators" in (row.last_error or "")

    # a.test's deliveries to b.test stop: failed at once with the reason, nothing sent.
    b_inbox_before = await count(b, InboxItem)
    await publish(a, alice_token, "gearbox", "CC-BY-SA-4.0")
    await settle(a, b)
    assert await count(b, InboxItem) == b_inbox_before
    async with a.instance.sessions() as session:
        to_b = list(await session.scalars(select(Delivery).where(Delivery.host == "b.test")))
    withheld = [d for d in to_b if d.state == FAILED]
    assert withheld and all("b.test is blocked" in (d.last_error or "") for d in withheld)

    # Bob's design, version and comment are gone from a.test's listings and direct gets.
    assert bobgear["id"] not in await listed(a)
    assert await listed(a, q="Bobgear") == []
    refused(await get(a, "/api/v1/versions", uri=bob_version), 404)
    refused(await get(a, "/api/v1/designs/by-uri", uri=bobgear["id"]), 404)
    refused(await get(a, "/api/v1/lineage", version=bob_version), 404)
    assert await replies_of(a, replies) == []

    # Following or resolving b.test's people from a.test is refused without asking b.test.
    for target in ("@bob@b.test", "https://b.test/users/bobgear", "@new@sub.b.test"):
        follow = await api_post(a, alice_token, "/api/v1/follows", {"target": target})
        refused(follow, 403, "blocked by this instance's moderators")
    fork = await api_post(
        a, alice_token, "/api/v1/forks", {"upstream": bob_version, "slug": "myfork"}
    )
    refused(fork, 403, "blocked")
    assert federation_requests(a, "b.test")[requests_to_b:] == []

    # Lifting the block restores it all.
    lifted = await admin(a, mod_token, "DELETE", f"{ADMIN}/{entity['id']}")
    assert lifted.status_code == 200, lifted.text
    assert bobgear["id"] in await listed(a) and bobgear["id"] in await listed(a, q="Bobgear")
    assert (await get(a, "/api/v1/versions", uri=bob_version)).status_code == 200
    assert await replies_of(a, replies) == [comment.json()["id"]]
    new_bob = (await publish(b, bob_token, "bobgear", "CC-BY-SA-4.0"))["id"]
    new_alice = (await publish(a, alice_token, "gearbox", "CC-BY-SA-4.0"))["id"]
    await settle(a, b)
    assert await version_row(a, new_bob) is not None
    assert await version_row(b, new_alice) is not None

    # Each change was audited under the moderator.
    async with a.instance.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["domain_block.create", "domain_block.delete"]


# --- silence -----------------------------------------------------------------------------------


async def test_silencing_hides_from_listings_but_not_from_direct_gets(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, mod_token = await a.user("mod", role="admin")
    _, bob_token = await b.user("bob")
    bobgear = await new_project(b, bob_token, "bobgear")
    await api_post(a, alice_token, "/api/v1/follows", {"target": "@bobgear@b.test"})
    await settle(a, b)
    first = (await publish(b, bob_token, "bobgear", "CC-BY-SA-4.0"))["id"]
    await settle(a, b)

    block = await admin(a, mod_token, "POST", data={"domain": "b.test", "severity": "silence"})
    assert block.status_code == 200, block.text
    assert bobgear["id"] not in await listed(a) and await listed(a, q="Bobgear") == []
    assert (await get(a, "/api/v1/versions", uri=first)).status_code == 200
    assert (await get(a, "/api/v1/designs/by-uri", uri=bobgear["id"])).status_code == 200
    # A silenced domain still federates: its new versions arrive.
    second = (await publish(b, bob_token, "bobgear", "CC-BY-SA-4.0"))["id"]
    await settle(a, b)
    assert await version_row(a, second) is not None

    # reject_media drops the remote preview images from the API, and nothing else.
    changed = await admin(
        a, mod_token, "PUT", f"{ADMIN}/{block.json()['id']}", json={"reject_media": True}
    )
    assert changed.json()["severity"] == "silence" and changed.json()["reject_media"] is True
    files = (await get(a, "/api/v1/versions", uri=second)).json()["files"]
    assert [f["filename"] for f in files] == ["gearbox.stl"]

    # Another POST of the same domain points to PUT.
    again = await admin(a, mod_token, "POST", json={"domain": "B.test", "severity": "suspend"})
    refused(again, 422, "already blocked", f"PUT {ADMIN}/{block.json()['id']}")
    async with a.instance.sessions() as session:
        assert (await session.scalar(select(DomainBlock.severity))) == SILENCE


# --- who may, and what the public sees ----------------------------------------------------------


async def test_members_are_refused_and_the_public_list_obfuscates(nodes: Any) -> None:
    a = await nodes("a.test")
    _, member_token = await a.user("member")
    _, mod_token = await a.user("mod", role="moderator")
    for method, path in (
        ("GET", ADMIN),
        ("POST", ADMIN),
        ("GET", f"{ADMIN}/1"),
        ("PUT", f"{ADMIN}/1"),
        ("DELETE", f"{ADMIN}/1"),
        ("GET", f"{ADMIN}/export"),
        ("POST", f"{ADMIN}/import"),
    ):
        refused(await admin(a, member_token, method, path, json={}), 403, "moderator")
    refused(await get(a, ADMIN), 401)

    for body in (
        {"domain": "verybadplace.example", "obfuscate": True, "public_comment": "harassment"},
        {"domain": "quiet.example", "severity": "silence", "private_comment": "watch"},
        {"domain": "fine.example", "severity": "noop", "reject_reports": True},
    ):
        assert (await admin(a, mod_token, "POST", json=body)).status_code == 200
    refused(await admin(a, mod_token, "POST", json={"domain": "a.test"}), 422, "own domain")
    refused(await admin(a, mod_token, "POST", json={"domain": "x", "severity": "bad"}), 422)

    public = (await get(a, "/api/v1/instance/domain_blocks")).json()
    assert public == [
        {
            "domain": "veryba******.**ample",
            "digest": hashlib.sha256(b"verybadplace.example").hexdigest(),
            "severity": "suspend",
            "comment": "harassment",
        },
        {
            "domain": "quiet.example",
            "digest": hashlib.sha256(b"quiet.example").hexdigest(),
            "severity": "silence",
            "comment": None,
        },
    ]
    every = (await admin(a, mod_token, "GET")).json()
    assert [e["domain"] for e in every] == ["verybadplace.example", "quiet.example", "fine.example"]
    assert every[1]["private_comment"] == "watch"
    one = await admin(a, mod_token, "GET", f"{ADMIN}/{every[2]['id']}")
    assert one.json()["reject_reports"] is True
    refused(await admin(a, mod_token, "GET", f"{ADMIN}/99999"), 404)


# --- CSV ---------------------------------------------------------------------------------------


async def test_csv_round_trips_and_a_bad_file_changes_nothing(nodes: Any) -> None:
    a, c = await nodes("a.test"), await nodes("c.test")
    _, mod_a = await a.user("mod", role="moderator")
    _, mod_c = await c.user("mod", role="moderator")
    csv_text = (
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
        'spam.example,suspend,false,false,"spam, lots",false\n'
        "quiet.example,silence,true,false,,true\n"
    )
    imported = await admin(a, mod_a, "POST", f"{ADMIN}/import", content=csv_text)
    assert imported.json() == {"created": 2, "updated": 0, "unchanged": 0}, imported.text
    exported = await admin(a, mod_a, "GET", f"{ADMIN}/export")
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[0] == (
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
    )
    into_c = await admin(c, mod_c, "POST", f"{ADMIN}/import", content=exported.text)
    assert into_c.json() == {"created": 2, "updated": 0, "unchanged": 0}
    assert (await admin(c, mod_c, "GET", f"{ADMIN}/export")).text == exported.text
    again = await admin(c, mod_c, "POST", f"{ADMIN}/import", content=exported.text)
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 2}

    # One domain a line, with or without the header, blocks with the defaults.
    for text in ("#domain\nmore.example\n", "other.example\n\nquiet.example\n"):
        assert (await admin(c, mod_c, "POST", f"{ADMIN}/import", content=text)).status_code == 200
    assert (await admin(c, mod_c, "GET", f"{ADMIN}/export")).text.count("\n") == 5
    quiet = [e for e in (await admin(c, mod_c, "GET")).json() if e["domain"] == "quiet.example"]
    assert quiet[0]["severity"] == "suspend"  # the domain-only line changed it

    # A bad line anywhere: 422 naming every bad line, and nothing changes.
    before = (await admin(c, mod_c, "GET", f"{ADMIN}/export")).text
    bad = "new.example,suspend\nworse.example,explode\nnot a domain\nc.test\nnew.example\n"
    response = await admin(c, mod_c, "POST", f"{ADMIN}/import", content=bad)
    refused(response, 422, "nothing changed", "line 2", "line 3", "line 4", "line 5")
    assert "line 1" not in response.json()["error"]
    assert (await admin(c, mod_c, "GET", f"{ADMIN}/export")).text == before
    async with c.instance.sessions() as session:
        audited = list(await session.scalars(select(AuditEntry.target)))
    assert "new.example" not in audited and "spam.example" in audited


# --- the command line --------------------------------------------------------------------------


def test_the_blocks_commands(tmp_path: Any) -> None:
    env = cli_env(tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")

    def run(*args: str) -> str:
        return run_cli(env, "blocks", *args)

    added = run("add", "Spam.Example", "--severity", "silence", "--reject-media", "--reason", "ads")
    assert "spam.example: silence" in added and "within 10 s" in added
    assert "spam.example\tsilence\treject_media" in run("list")
    csv_file = tmp_path / "blocks.csv"
    csv_file.write_text("#domain,#severity\nbad.example,suspend\n")
    assert "1 created, 0 updated, 0 unchanged" in run("import", str(csv_file))
    exported = run("export")
    assert "bad.example,suspend,false,false,,false" in exported
    assert "lifted the block of bad.example" in run("remove", "bad.example")
    assert "not blocked" in run_cli(env, "blocks", "remove", "bad.example", code=1)
    assert "bad.example" not in run("list")
