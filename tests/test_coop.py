"""The cooperative behind an instance: its Organization actor, boosts and instance metadata."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from federation.blocks import SUSPEND
from federation.settings import Settings
from objects.design_models import DesignVersion
from objects.models import Interaction
from outbox.coop import announce_coop_update, ensure_coop_actor
from outbox.models import Delivery, OutboxActivity
from tests.support import Network, Node, bearer, cli_env, count, get, run_cli, settle
from tests.test_design_federation import (
    activity_json,
    api_post,
    new_project,
    publish,
)
from web.app import create_app

COOP = {
    "coop_name": "Makers of the Valley",
    "coop_description": "A workshop cooperative: we make and mend.",
    "coop_contact_email": "hello@valley.example",
    "coop_rules": ("Be kind.", "Credit the designers you build on."),
    "registration_mode": "invite",
}


async def outgoing(node: Node, actor_uri: str, kind: str) -> list[OutboxActivity]:
    async with node.instance.sessions() as session:
        actor = await session.scalar(select(Actor).where(Actor.uri == actor_uri))
        assert actor is not None
        rows = await session.scalars(
            select(OutboxActivity).where(
                OutboxActivity.actor_id == actor.id, OutboxActivity.type == kind
            )
        )
        return list(rows)


async def test_the_cooperative_is_an_organization_actor_listing_its_members(nodes: Any) -> None:
    a = await nodes("a.test", **(COOP | {"registration_mode": "open"}))
    alice, _ = await a.user("alice")

    doc = await activity_json(a, "https://a.test/users/coop")
    assert doc["type"] == "Organization"
    assert doc["name"] == "Makers of the Valley"
    assert doc["entityKind"] == "cooperative"
    assert doc["rules"] == ["Be kind.", "Credit the designers you build on."]
    assert "<li>Credit the designers you build on.</li>" in doc["summary"]
    assert {"type": "PropertyValue", "name": "Contact", "value": "hello@valley.example"} in doc[
        "attachment"
    ]

    members = await activity_json(a, doc["members"])
    assert members["totalItems"] == 1
    page = await activity_json(a, members["first"])
    assert page["orderedItems"] == [alice.uri]

    async with a.client() as client:
        finger = await client.get("/.well-known/webfinger?resource=acct:coop@a.test")
        assert finger.status_code == 200
        body = {
            "username": "coop",
            "email": "x@a.test",
            "password": "long enough",
            "agreement": True,
        }
        taken = await client.post("/api/v1/accounts", json=body)
    assert taken.status_code == 409, "the cooperative's name is not free"
    assert taken.json()["error"] == "the user name 'coop' is taken"


async def test_followers_of_the_cooperative_see_its_boosts_of_members_designs(nodes: Any) -> None:
    a, b = await nodes("a.test", **COOP), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    follow = await api_post(b, bob_token, "/api/v1/follows", {"target": "@coop@a.test"})
    assert follow.status_code == 202, follow.text
    await settle(a, b)
    async with a.instance.sessions() as session:
        accepted = await session.scalar(select(Follow).where(Follow.state == FOLLOW_ACCEPTED))
    assert accepted is not None, "the cooperative accepts followers at once"

    await new_project(a, alice_token, "gearbox")
    version = await publish(a, alice_token, "gearbox", "CERN-OHL-S-2.0")
    await settle(a, b)

    boosts = await outgoing(a, "https://a.test/users/coop", "Announce")
    assert [row.object_uri for row in boosts] == [version["id"]]
    assert await count(a, Delivery, Delivery.activity_id == boosts[0].id, Delivery.state == "done")
    assert await count(b, DesignVersion, DesignVersion.uri == version["id"]) == 1, (
        "bob's instance fetched the boosted design"
    )


async def test_moderators_boost_and_unboost_by_hand(nodes: Any) -> None:
    a = await nodes("a.test", coop_boosts_member_designs=False)
    _, alice_token = await a.user("alice")
    _, mod_token = await a.user("mod", role="moderator")
    await new_project(a, alice_token, "gearbox")
    version = await publish(a, alice_token, "gearbox", "CERN-OHL-S-2.0")
    assert await outgoing(a, "https://a.test/users/coop", "Announce") == []

    body = {"uri": version["id"]}
    assert (await api_post(a, alice_token, "/api/v1/coop/boosts", body)).status_code == 403
    assert (await api_post(a, mod_token, "/api/v1/coop/boosts", body)).status_code == 201
    assert (await api_post(a, mod_token, "/api/v1/coop/boosts", body)).status_code == 200
    assert await count(a, Interaction, Interaction.object_uri == version["id"]) == 1
    unknown = await api_post(a, mod_token, "/api/v1/coop/boosts", {"uri": "https://x.test/v/1"})
    assert unknown.status_code == 404 and "fetch it first" in unknown.json()["error"]
    bad = await api_post(a, mod_token, "/api/v1/coop/boosts", {"uri": "gearbox"})
    assert bad.status_code == 422

    async with a.client() as client:
        undo = await client.delete("/api/v1/coop/boosts", params=body, headers=bearer(mod_token))
        again = await client.delete("/api/v1/coop/boosts", params=body, headers=bearer(mod_token))
    assert undo.status_code == 200 and again.status_code == 404
    assert len(await outgoing(a, "https://a.test/users/coop", "Undo")) == 1
    assert await count(a, Interaction, Interaction.object_uri == version["id"]) == 0


async def test_changed_settings_update_the_actor_and_tell_followers(nodes: Any) -> None:
    a, b = await nodes("a.test", **COOP), await nodes("b.test")
    _, bob_token = await b.user("bob")
    await api_post(b, bob_token, "/api/v1/follows", {"target": "@coop@a.test"})
    await settle(a, b)

    renamed = a.instance.settings.with_changes(coop_name="Valley Makers Cooperative")
    async with a.instance.sessions() as session:
        _, changed = await ensure_coop_actor(session, a.instance.urls, renamed)
        assert changed
        await announce_coop_update(session, a.instance.urls, renamed)
        await session.commit()
        _, unchanged = await ensure_coop_actor(session, a.instance.urls, renamed)
        assert not unchanged
    assert len(await outgoing(a, "https://a.test/users/coop", "Update")) == 1
    await settle(a, b)
    async with b.instance.sessions() as session:
        copy = await session.scalar(select(Actor).where(Actor.uri == "https://a.test/users/coop"))
    assert copy is not None and copy.name == "Valley Makers Cooperative"


async def test_nodeinfo_and_instance_api_report_the_same_cooperative(nodes: Any) -> None:
    a = await nodes("a.test", **COOP)
    await a.user("alice")
    links = (await get(a, "/.well-known/nodeinfo")).json()
    nodeinfo = (await get(a, links["links"][0]["href"].removeprefix("https://a.test"))).json()
    v2 = (await get(a, "/api/v2/instance")).json()
    v2_slash = (await get(a, "/api/v2/instance/")).json()
    v1 = (await get(a, "/api/v1/instance/")).json()

    meta = nodeinfo["metadata"]
    assert meta["organization"] == {
        "name": "Makers of the Valley",
        "entityKind": "cooperative",
        "account": "https://a.test/users/coop",
        "contact": "hello@valley.example",
    }
    assert meta["rules"] == list(COOP["coop_rules"])
    assert meta["registrations"]["mode"] == "invite"
    assert nodeinfo["openRegistrations"] is False
    assert nodeinfo["usage"]["users"]["total"] == 1

    assert v2 == v2_slash
    # NodeInfo alone adds the API it speaks (`upstream`), for apps that detect by it.
    assert v2["ourdesign"] == {name: value for name, value in meta.items() if name != "upstream"}
    assert v2["version"].startswith("4.3.0 (compatible; OurDesign ")
    assert v2["contact"]["email"] == "hello@valley.example"
    assert v2["configuration"]["urls"]["streaming"] == "wss://a.test"
    assert v2["contact"]["account"]["acct"] == "coop"
    assert [rule["text"] for rule in v2["rules"]] == list(COOP["coop_rules"])
    assert v2["registrations"] == {
        "enabled": False,
        "approval_required": False,
        "message": "Joining needs an invite link from a member.",
        "url": None,
    }
    assert v1["contact_account"]["acct"] == "coop" and v1["stats"]["user_count"] == 1
    assert v1["invites_enabled"] is True and v1["registrations"] is False
    avatar = await get(a, "/avatars/missing.png")
    assert avatar.status_code == 200 and avatar.content.startswith(b"\x89PNG")


async def test_about_page_shows_rules_contact_and_moderated_servers(nodes: Any) -> None:
    a = await nodes("a.test", **COOP)
    _, mod_token = await a.user("mod", role="moderator")
    block = {"domain": "spam.example", "severity": SUSPEND, "public_comment": "Spam <b>waves</b>"}
    response = await api_post(a, mod_token, "/api/v1/admin/domain_blocks", block)
    assert response.status_code == 200, response.text

    page = await get(a, "/about")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Makers of the Valley" in html and "<li>Be kind.</li>" in html
    assert "mailto:hello@valley.example" in html
    assert "spam.example" in html and "Spam &lt;b&gt;waves&lt;/b&gt;" in html


def test_cli_boosts_and_unboosts_a_members_design(tmp_path) -> None:
    env = cli_env(
        tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
        coop_boosts_member_designs="false",
    )

    def run(*args: str, code: int = 0) -> str:
        return run_cli(env, *args, code=code)

    unknown = run("coop", "boost", "https://coop.test/users/lamp/versions/1", code=1)
    assert "fetch it first" in unknown

    async def publish_design() -> str:
        settings = Settings.from_env(environ={k: v for k, v in env.items() if v is not None})
        app = create_app(settings, run_workers=False)
        async with app.router.lifespan_context(app):
            network = Network()
            network.add("coop.test", app)
            node = Node("coop.test", app, network)
            _, token = await node.user("alice")
            await new_project(node, token, "lamp")
            version = await publish(node, token, "lamp", "CERN-OHL-S-2.0")
        return str(version["id"])

    uri = asyncio.run(publish_design())
    assert f"boosted {uri}" in run("coop", "boost", uri)
    assert "already boosted" in run("coop", "boost", uri)
    assert "withdrew" in run("coop", "unboost", uri)
    assert "has not boosted" in run("coop", "unboost", uri, code=1)
    assert "coop.boost" in run("audit")
