"""Designs received through federation: what an inbox refuses, and what it keeps as a comment.

The receiver (a.test) is a real instance. Designs are sent by real project actors of a second
real instance (c.test), whose private keys we read from its database, or by hand-made remote
servers on the in-memory network (a Mastodon-like person, a design host we control). Each
refusal must answer 422 with the reason, store nothing of the design, and queue a `Reject`
from the receiver's instance actor whose `summary` is that reason.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.models import Actor
from federation.keys import generate_rsa_pem, load_rsa_private_pem
from federation.vocab import DESIGN_CONTEXT, PUBLIC
from inbox.models import InboxItem
from objects.design_models import DesignVersion, Fork, Project
from objects.designs import VersionSpec, create_project
from objects.models import Note
from outbox.designs import publish_version
from outbox.models import Delivery, OutboxActivity
from tests.support import Network, Node, settle, signed_post

ACTIVITY_JSON = "application/activity+json"
SPDX = "https://spdx.org/licenses/{}.html"


@dataclass
class Sender:
    """A remote actor whose private key we hold."""

    domain: str
    uri: str
    key_id: str
    key: rsa.RSAPrivateKey

    @property
    def inbox(self) -> str:
        return f"{self.uri}/inbox"

    def activity_id(self) -> str:
        return f"https://{self.domain}/activities/{uuid.uuid4().hex}"


@dataclass
class Scene:
    network: Network
    a: Node
    c: Node
    maker: Actor  # a person on a.test
    project: Sender  # a design project of an individual on c.test


# --- building blocks ----------------------------------------------------------------------


async def local_version(node: Node, owner: Actor, slug: str, licence: str) -> str:
    """A project of `owner` on `node` with one published version; its URI."""
    instance = node.instance
    async with instance.sessions() as session:
        person = await session.get(Actor, owner.id)
        assert person is not None
        project, project_actor = await create_project(
            session, instance.urls, person, slug=slug, name=slug.title(), summary=""
        )
        spec = VersionSpec(
            label="1.0",
            name=f"{slug} 1.0",
            licence=instance.policy.terms(licence),
            description="A *design*.",
            authors=(person.uri,),
        )
        version, _ = await publish_version(
            session, instance.urls, instance.policy, project, project_actor, spec
        )
        await session.commit()
        return version.uri


async def remote_project(node: Node, owner_name: str, slug: str, kind: str) -> Sender:
    """A design project actor on `node`, maintained by a new person of `kind`."""
    owner, _ = await node.user(owner_name, kind)
    async with node.instance.sessions() as session:
        person = await session.get(Actor, owner.id)
        assert person is not None
        _, actor = await create_project(
            session, node.instance.urls, person, slug=slug, name=slug.title(), summary=""
        )
        await session.commit()
    assert actor.private_key_pem is not None
    return Sender(
        node.domain, actor.uri, actor.public_key_id, load_rsa_private_pem(actor.private_key_pem)
    )


def design_page(
    project: Sender | str,
    number: int = 1,
    *,
    licence: Any = "CC-BY-4.0",
    forked_from: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A version Page as an Our Design instance publishes it."""
    project_uri = project if isinstance(project, str) else project.uri
    uri = f"{project_uri}/versions/{number}"
    page: dict[str, Any] = {
        "id": uri,
        "type": "Page",
        "name": f"Gearbox {number}",
        "summary": "A small gearbox",
        "content": "<p>A small gearbox.</p>",
        "mediaType": "text/html",
        "url": uri,
        "attributedTo": [project_uri],
        "context": project_uri,
        "audience": project_uri,
        "versionLabel": str(number),
        "license": SPDX.format(licence) if isinstance(licence, str) else None,
        "licenseExpression": licence,
        "forkedFrom": forked_from,
        "attachment": [],
        "published": "2026-01-01T00:00:00Z",
        "replies": f"{uri}/replies",
        "to": [PUBLIC],
        "cc": [f"{project_uri}/followers"],
    }
    page.update(overrides)
    return {key: value for key, value in page.items() if value is not None}


def activity(sender: Sender, kind: str, obj: Any) -> dict[str, Any]:
    return {
        "@context": DESIGN_CONTEXT,
        "id": sender.activity_id(),
        "type": kind,
        "actor": sender.uri,
        "object": obj,
        "to": [PUBLIC],
    }


async def send(
    node: Node, sender: Sender, body: dict[str, Any], path: str = "/inbox"
) -> httpx.Response:
    return await signed_post(node, path, json.dumps(body).encode(), sender.key_id, sender.key)


def hand_made_host(
    network: Network, host: str, documents: dict[str, dict[str, Any]] | None = None, **fields: Any
) -> Sender:
    """A server that is not Our Design: one actor at /users/x, and any `documents` by path."""
    private_pem, public_pem = generate_rsa_pem()
    uri = f"https://{host}/users/x"
    actor_doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": uri,
        "type": "Person",
        "preferredUsername": "x",
        "inbox": f"{uri}/inbox",
        "endpoints": {"sharedInbox": f"https://{host}/inbox"},
        "followers": f"{uri}/followers",
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem},
        **fields,
    }
    served = {"/users/x": actor_doc, **(documents or {})}

    async def serve(request: Request) -> Response:
        doc = served.get(request.url.path)
        if doc is None:
            return Response(status_code=404)
        return Response(json.dumps(doc), media_type=ACTIVITY_JSON)

    async def inbox(request: Request) -> Response:
        return Response(status_code=202)

    network.add(
        host,
        Starlette(
            routes=[
                Route("/inbox", inbox, methods=["POST"]),
                Route("/users/x/inbox", inbox, methods=["POST"]),
                Route("/{path:path}", serve),
            ]
        ),
    )
    return Sender(host, uri, f"{uri}#main-key", load_rsa_private_pem(private_pem))


# --- what we check after a refusal --------------------------------------------------------


async def version_row(node: Node, uri: str) -> DesignVersion | None:
    async with node.instance.sessions() as session:
        return await session.scalar(select(DesignVersion).where(DesignVersion.uri == uri))


async def count(node: Node, model: Any, *where: Any) -> int:
    async with node.instance.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def instance_actor(node: Node) -> Actor:
    async with node.instance.sessions() as session:
        actor = await session.scalar(
            select(Actor).where(Actor.uri == node.instance.urls.instance_actor)
        )
    assert actor is not None
    return actor


async def rejects_of(node: Node, activity_id: str) -> list[OutboxActivity]:
    async with node.instance.sessions() as session:
        rows = await session.scalars(select(OutboxActivity).where(OutboxActivity.type == "Reject"))
        return [row for row in rows if row.payload.get("object", {}).get("id") == activity_id]


async def assert_refused(
    node: Node,
    sender: Sender,
    sent: dict[str, Any],
    response: httpx.Response,
    *reason: str,
) -> OutboxActivity:
    """422 with the reason; nothing of the design stored; one Reject queued to the sender."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error, str)
    for part in reason:
        assert part.lower() in error.lower(), (part, error)

    assert await count(node, InboxItem, InboxItem.activity_uri == sent["id"]) == 0
    page = sent["object"]
    if sent["type"] == "Create":
        assert await version_row(node, page["id"]) is None
        assert await count(node, Fork, Fork.fork_uri == page["id"]) == 0
        assert await count(node, Note, Note.uri == page["id"]) == 0
    sender_project = select(Actor.id).where(Actor.uri == sender.uri).scalar_subquery()
    if sent["type"] == "Create":
        assert await count(node, Project, Project.actor_id == sender_project) == 0

    rejects = await rejects_of(node, sent["id"])
    assert len(rejects) == 1, rejects
    reject = rejects[0]
    assert reject.actor_id == (await instance_actor(node)).id
    assert reject.payload["type"] == "Reject"
    assert reject.payload["actor"] == node.instance.urls.instance_actor
    assert reject.payload["summary"] == error
    assert reject.payload["object"]["actor"] == sender.uri
    inboxes = await delivery_inboxes(node, reject)
    assert inboxes, "the Reject is not delivered"
    assert all(httpx.URL(inbox).host == sender.domain for inbox in inboxes), inboxes
    return reject


async def delivery_inboxes(node: Node, activity: OutboxActivity) -> list[str]:
    async with node.instance.sessions() as session:
        return list(
            await session.scalars(
                select(Delivery.inbox_url).where(Delivery.activity_id == activity.id)
            )
        )


async def assert_sender_got(sender_node: Node, receiver: Node, reject: OutboxActivity) -> None:
    async with sender_node.instance.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == reject.uri))
    assert item is not None, "the Reject never reached the sender"
    assert item.type == "Reject"
    assert item.actor_uri == receiver.instance.urls.instance_actor
    assert item.payload["summary"] == reject.payload["summary"]


# --- the scene ----------------------------------------------------------------------------


@pytest.fixture
async def scene(nodes: Callable[..., Any], network: Network) -> Scene:
    a = await nodes("a.test")
    c = await nodes("c.test")
    maker, _ = await a.user("maker")
    project = await remote_project(c, "carol", "gearbox", "individual")
    return Scene(network, a, c, maker, project)


# --- positive control ---------------------------------------------------------------------


async def test_a_licensed_version_is_accepted_and_stored(scene: Scene) -> None:
    page = design_page(scene.project, licence="CERN-OHL-S-2.0 OR CC-BY-SA-4.0")
    sent = activity(scene.project, "Create", page)
    response = await send(scene.a, scene.project, sent)
    assert response.status_code == 202, response.text
    await settle(scene.a, scene.c)
    version = await version_row(scene.a, page["id"])
    assert version is not None and not version.local
    assert version.licence_text == "CERN-OHL-S-2.0 OR CC-BY-SA-4.0"
    assert await rejects_of(scene.a, sent["id"]) == []


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["absent", "null", "empty", "empty-mapping"])
async def test_a_design_without_a_licence_is_refused(scene: Scene, missing: str) -> None:
    page = design_page(scene.project)
    del page["licenseExpression"], page["license"]
    if missing != "absent":
        page["licenseExpression"] = {"null": None, "empty": "", "empty-mapping": {}}[missing]
    sent = activity(scene.project, "Create", page)
    response = await send(scene.a, scene.project, sent)
    reject = await assert_refused(scene.a, scene.project, sent, response, "no licence")
    await settle(scene.a, scene.c)
    await assert_sender_got(scene.c, scene.a, reject)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("CC-BY-SA-4.0 OR", "not a valid SPDX licence expression"),
        ("()", "not a valid SPDX licence expression"),
        ("NOASSERTION", "NOASSERTION"),
        ("Made-Up-1.0", "unknown licence id"),
        ("LicenseRef-Mine", "not registered"),
        ({"hardware": "CERN-OHL-S-2.0"}, "no licence"),
        (
            {"hardware": "CERN-OHL-S-2.0", "documentation": "CC-BY-4.0", "software": "MIT OR"},
            "software",
        ),
        (["CC-BY-4.0"], "SPDX expression"),
    ],
    ids=[
        "dangling-or",
        "parens",
        "noassertion",
        "unknown",
        "licenseref",
        "partial",
        "bad-part",
        "list",
    ],
)
async def test_a_design_with_an_invalid_licence_is_refused(
    scene: Scene, expression: Any, reason: str
) -> None:
    page = design_page(scene.project, licence=expression)
    sent = activity(scene.project, "Create", page)
    response = await send(scene.a, scene.project, sent)
    reject = await assert_refused(scene.a, scene.project, sent, response, reason)
    if expression == "CC-BY-SA-4.0 OR":
        assert "CC-BY-SA-4.0 OR" in reject.payload["summary"]
    await settle(scene.a, scene.c)
    await assert_sender_got(scene.c, scene.a, reject)


async def test_a_reject_is_delivered_once_per_host(scene: Scene) -> None:
    page = design_page(scene.project, licence="CC-BY-SA-4.0 OR")
    sent = activity(scene.project, "Create", page)
    reject = await assert_refused(
        scene.a, scene.project, sent, await send(scene.a, scene.project, sent)
    )
    inboxes = await delivery_inboxes(scene.a, reject)
    assert len(inboxes) == 1, inboxes


async def test_an_incompatible_fork_of_a_local_design_is_refused(scene: Scene) -> None:
    upstream = await local_version(scene.a, scene.maker, "sprocket", "CC-BY-SA-4.0")
    page = design_page(scene.project, licence="CC-BY-4.0", forked_from=upstream)
    sent = activity(scene.project, "Create", page)
    response = await send(scene.a, scene.project, sent)
    reject = await assert_refused(
        scene.a, scene.project, sent, response, upstream, "CC-BY-SA-4.0", "CC-BY-4.0"
    )
    async with scene.a.instance.sessions() as session:
        upstream_project = await session.scalar(
            select(Project)
            .join(DesignVersion, DesignVersion.project_id == Project.id)
            .where(DesignVersion.uri == upstream)
        )
    assert upstream_project is not None and upstream_project.forks_count == 0
    await settle(scene.a, scene.c)
    await assert_sender_got(scene.c, scene.a, reject)

    # The same fork under the upstream's own licence is welcome, and listed as a fork.
    page = design_page(scene.project, licence="CC-BY-SA-4.0", forked_from=upstream)
    sent = activity(scene.project, "Create", page)
    assert (await send(scene.a, scene.project, sent)).status_code == 202
    await settle(scene.a, scene.c)
    version = await version_row(scene.a, page["id"])
    assert version is not None and version.upstream_uri == upstream
    assert (
        await count(scene.a, Fork, Fork.fork_uri == page["id"], Fork.upstream_uri == upstream) == 1
    )


async def test_an_incompatible_fork_of_a_design_the_receiver_has_not_seen_is_refused(
    scene: Scene,
) -> None:
    """The receiver fetches the upstream (signed, origin-checked) to judge the fork."""
    owner, _ = await scene.c.user("dave")
    upstream = await local_version(scene.c, owner, "sprocket", "CC-BY-SA-4.0")
    assert await version_row(scene.a, upstream) is None
    page = design_page(scene.project, licence="CC-BY-4.0", forked_from=upstream)
    sent = activity(scene.project, "Create", page)
    response = await send(scene.a, scene.project, sent)
    await assert_refused(scene.a, scene.project, sent, response, "CC-BY-SA-4.0", "CC-BY-4.0")
    assert any(
        request.method == "GET" and str(request.url) == upstream
        for request in scene.network.requests
    )
    assert await version_row(scene.a, upstream) is None

    page = design_page(scene.project, 2, licence="CC-BY-SA-4.0", forked_from=upstream)
    assert (
        await send(scene.a, scene.project, activity(scene.project, "Create", page))
    ).status_code == 202
    await settle(scene.a, scene.c)
    assert await version_row(scene.a, page["id"]) is not None


async def test_a_later_version_of_a_fork_is_still_checked_against_the_upstream(
    scene: Scene,
) -> None:
    """Version 2 of a fork that does not repeat forkedFrom inherits its project's upstream."""
    upstream = await local_version(scene.a, scene.maker, "sprocket", "CC-BY-SA-4.0")
    first = design_page(scene.project, licence="CC-BY-SA-4.0", forked_from=upstream)
    assert (
        await send(scene.a, scene.project, activity(scene.project, "Create", first))
    ).status_code == 202
    await settle(scene.a, scene.c)
    assert await version_row(scene.a, first["id"]) is not None

    second = design_page(scene.project, 2, licence="CC-BY-4.0")
    sent = activity(scene.project, "Create", second)
    response = await send(scene.a, scene.project, sent)
    assert response.status_code == 422, response.text
    assert "CC-BY-SA-4.0" in response.json()["error"]
    assert await version_row(scene.a, second["id"]) is None
    assert len(await rejects_of(scene.a, sent["id"])) == 1


async def test_a_fork_of_a_ppl_design_by_a_company_is_refused(scene: Scene) -> None:
    upstream = await local_version(scene.a, scene.maker, "commons", "PPL")
    company = await remote_project(scene.c, "acme", "acmegear", "company")
    page = design_page(company, licence="PPL", forked_from=upstream)
    sent = activity(company, "Create", page)
    response = await send(scene.a, company, sent)
    reject = await assert_refused(scene.a, company, sent, response, "PPL", "company")
    await settle(scene.a, scene.c)
    await assert_sender_got(scene.c, scene.a, reject)

    # A cooperative may publish the same fork.
    coop = await remote_project(scene.c, "workers", "coopgear", "cooperative")
    page = design_page(coop, licence="PPL", forked_from=upstream)
    assert (await send(scene.a, coop, activity(coop, "Create", page))).status_code == 202
    await settle(scene.a, scene.c)
    assert await version_row(scene.a, page["id"]) is not None


async def test_an_update_that_changes_a_published_licence_is_refused(scene: Scene) -> None:
    page = design_page(scene.project, licence="CC-BY-4.0")
    assert (
        await send(scene.a, scene.project, activity(scene.project, "Create", page))
    ).status_code == 202
    await settle(scene.a, scene.c)
    assert (await version_row(scene.a, page["id"])) is not None

    changed = {
        **page,
        "licenseExpression": "MIT",
        "license": SPDX.format("MIT"),
        "name": "Relicensed",
    }
    sent = activity(scene.project, "Update", changed)
    response = await send(scene.a, scene.project, sent)
    reject = await assert_refused(
        scene.a, scene.project, sent, response, "cannot change", "CC-BY-4.0", "MIT"
    )
    await settle(scene.a, scene.c)
    await assert_sender_got(scene.c, scene.a, reject)
    version = await version_row(scene.a, page["id"])
    assert version is not None
    assert version.licence_text == "CC-BY-4.0"
    assert version.licence == {"terms": "CC-BY-4.0"}
    assert version.name == "Gearbox 1" and version.edited_at is None

    # A text fix under the same licence (written differently) is an ordinary edit.
    fixed = {**page, "licenseExpression": "cc-by-4.0", "name": "Gearbox, fixed"}
    sent = activity(scene.project, "Update", fixed)
    assert (await send(scene.a, scene.project, sent)).status_code == 202, sent
    await settle(scene.a, scene.c)
    version = await version_row(scene.a, page["id"])
    assert version is not None and version.name == "Gearbox, fixed"
    assert version.licence_text == "CC-BY-4.0"
    assert await rejects_of(scene.a, sent["id"]) == []


async def test_an_update_that_drops_the_licence_is_refused(scene: Scene) -> None:
    page = design_page(scene.project, licence="CC-BY-4.0")
    assert (
        await send(scene.a, scene.project, activity(scene.project, "Create", page))
    ).status_code == 202
    await settle(scene.a, scene.c)
    dropped = {k: v for k, v in page.items() if k not in ("licenseExpression", "license")}
    sent = activity(scene.project, "Update", dropped)
    await assert_refused(
        scene.a, scene.project, sent, await send(scene.a, scene.project, sent), "no licence"
    )
    version = await version_row(scene.a, page["id"])
    assert version is not None and version.licence_text == "CC-BY-4.0"


async def test_a_design_sent_by_reference_is_checked_too(scene: Scene) -> None:
    """Create{object: URL}: the receiver fetches the Page; the licence rules still apply."""
    upstream = await local_version(scene.a, scene.maker, "commons", "PPL")
    host = "far.test"
    project_uri = f"https://{host}/users/x"
    page_path = "/users/x/versions/1"
    page = design_page(project_uri, licence="PPL", forked_from=upstream)
    page["@context"] = DESIGN_CONTEXT
    sender = hand_made_host(
        scene.network, host, {page_path: page}, type="Service", entityKind="company"
    )
    sent = activity(sender, "Create", page["id"])
    response = await send(scene.a, sender, sent)
    await settle(scene.a)
    assert await version_row(scene.a, page["id"]) is None
    assert await count(scene.a, Fork, Fork.fork_uri == page["id"]) == 0
    assert response.status_code == 422 or len(await rejects_of(scene.a, sent["id"])) == 1


# --- what is not a design -----------------------------------------------------------------


async def test_a_mastodon_reply_to_a_version_is_kept_as_an_unlicensed_comment(
    scene: Scene,
) -> None:
    version_uri = await local_version(scene.a, scene.maker, "sprocket", "CC-BY-SA-4.0")
    masto = hand_made_host(scene.network, "social.test")
    note_uri = f"https://social.test/users/x/statuses/{uuid.uuid4().int % 10**18}"
    note = {
        "id": note_uri,
        "type": "Note",
        "attributedTo": masto.uri,
        "inReplyTo": version_uri,
        "content": (
            '<p><span class="h-card"><a href="https://a.test/@sprocket">@sprocket</a>'
            "</span> Printed it!</p>"
        ),
        "to": [PUBLIC],
        "cc": [f"{masto.uri}/followers", version_uri.rsplit("/versions/", 1)[0]],
        "published": "2026-01-02T00:00:00Z",
        "sensitive": False,
        "tag": [
            {
                "type": "Mention",
                "href": version_uri.rsplit("/versions/", 1)[0],
                "name": "@sprocket@a.test",
            }
        ],
    }
    sent = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_uri}/activity",
        "type": "Create",
        "actor": masto.uri,
        "object": note,
        "to": note["to"],
        "cc": note["cc"],
    }
    response = await send(scene.a, masto, sent)
    assert response.status_code == 202, response.text
    await settle(scene.a)

    async with scene.a.instance.sessions() as session:
        stored = await session.scalar(select(Note).where(Note.uri == note_uri))
        version = await session.scalar(
            select(DesignVersion).where(DesignVersion.uri == version_uri)
        )
    assert stored is not None and "Printed it!" in stored.content
    assert stored.license == "NOASSERTION"
    assert stored.in_reply_to == version_uri
    assert version is not None and version.replies_count == 1
    assert await rejects_of(scene.a, sent["id"]) == []
    assert await count(scene.a, DesignVersion, DesignVersion.uri == note_uri) == 0

    replies = version_uri.replace("https://a.test", "") + "/replies"
    async with scene.a.client(headers={"Accept": ACTIVITY_JSON}) as client:
        collection = (await client.get(replies)).json()
        page = (await client.get(f"{replies}?page=true")).json()
    assert collection["totalItems"] == 1
    assert page["orderedItems"] == [note_uri]


async def test_a_page_without_design_terms_is_not_a_design(scene: Scene) -> None:
    blog = hand_made_host(scene.network, "blog.test", type="Person")
    page_uri = "https://blog.test/posts/hello"
    page = {
        "id": page_uri,
        "type": "Page",
        "name": "Hello",
        "content": "<p>Just a page, no licence at all.</p>",
        "attributedTo": blog.uri,
        "to": [PUBLIC],
        "cc": [],
    }
    sent = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://blog.test/activities/1",
        "type": "Create",
        "actor": blog.uri,
        "object": page,
        "to": [PUBLIC],
    }
    response = await send(scene.a, blog, sent)
    assert response.status_code == 202, response.text
    await settle(scene.a)
    assert await rejects_of(scene.a, sent["id"]) == []
    assert await version_row(scene.a, page_uri) is None
    async with scene.a.instance.sessions() as session:
        stored = await session.scalar(select(Note).where(Note.uri == page_uri))
    assert stored is not None and stored.license == "NOASSERTION"
    assert "Just a page" in stored.content


async def test_a_comment_fetched_to_reply_to_it_is_counted_on_its_version(scene: Scene) -> None:
    dave, dave_token = await scene.c.user("dave")
    version_uri = await local_version(scene.c, dave, "sprocket", "CC-BY-SA-4.0")
    _, alice_token = await scene.a.user("alice")

    async def comment(node: Node, token: str, parent: str, text: str) -> str:
        async with node.client() as client:
            response = await client.post(
                "/api/v1/comments",
                json={"in_reply_to": parent, "content": text},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 201, response.text
        uri: str = response.json()["id"]
        return uri

    daves = await comment(scene.c, dave_token, version_uri, "Use PETG")
    await comment(scene.a, alice_token, version_uri, "Nice design")  # a.test fetches the version
    await comment(scene.a, alice_token, daves, "Why PETG?")  # a.test fetches Dave's comment
    async with scene.a.instance.sessions() as session:
        fetched = await session.scalar(select(Note).where(Note.uri == daves))
        comments = await session.scalar(
            select(func.count()).select_from(Note).where(Note.in_reply_to == version_uri)
        )
    assert fetched is not None and fetched.in_reply_to == version_uri
    assert comments == 2
    version = await version_row(scene.a, version_uri)
    assert version is not None and version.replies_count == comments
