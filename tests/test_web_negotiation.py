"""Content negotiation on every ActivityPub URL: ActivityPub clients get ActivityStreams
JSON, browsers get HTML (the object's own page, or a redirect to the page of what a
collection or activity belongs to), each page linking its JSON as `alternate`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from objects.designs import VersionSpec, create_project
from outbox.designs import publish_version
from outbox.models import OutboxActivity
from tests.support import Node, call, settle

ACTIVITY_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MASTODON_ACCEPT = "application/activity+json, application/ld+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ALTERNATE = re.compile(r'<link rel="alternate" type="application/activity\+json" href="([^"]+)">')


@dataclass(frozen=True)
class Objects:
    node: Node
    version: str
    note: str
    activity: str


@pytest.fixture
async def made(nodes: Any) -> Objects:
    """A person, a project with a version and a comment, and a follower on another server."""
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    instance = a.instance
    async with instance.sessions() as session:
        project, actor = await create_project(
            session, instance.urls, alice, slug="gearbox", name="Gearbox", summary=""
        )
        spec = VersionSpec(
            label="1.0", name="Gearbox", licence=instance.policy.terms("MIT"), authors=(alice.uri,)
        )
        version, _ = await publish_version(
            session, instance.urls, instance.policy, project, actor, spec
        )
        await session.commit()
    comment = await call(
        a,
        "POST",
        "/api/v1/comments",
        alice_token,
        json={"in_reply_to": version.uri, "content": "Print it in PETG."},
    )
    assert comment.status_code == 201, comment.text
    note = comment.json()["id"]
    follow = await call(b, "POST", "/api/v1/follows", bob_token, json={"target": "@gearbox@a.test"})
    assert follow.status_code == 202, follow.text
    await settle(a, b)
    async with instance.sessions() as session:
        activity = await session.scalar(
            select(OutboxActivity.uri)
            .where(
                OutboxActivity.public.is_(True),
                OutboxActivity.payload["type"].as_string() == "Create",
            )
            .order_by(OutboxActivity.id.desc())
        )
    assert activity is not None
    return Objects(a, version.uri, note, activity)


def every_url(made: Objects) -> list[tuple[str, str]]:
    """(URL, the object whose page a browser ends on) for every ActivityPub URL we serve."""
    base = "https://a.test"
    person, project, coop = f"{base}/users/alice", f"{base}/users/gearbox", f"{base}/users/coop"
    return [
        (f"{base}/actor", f"{base}/actor"),
        (person, person),
        (project, project),
        (coop, coop),
        (made.version, made.version),
        (made.note, made.note),
        (made.activity, made.note),
        *[(f"{actor}/{name}", actor) for actor in (person, project) for name in COLLECTIONS],
        (f"{person}/outbox?page=true", person),
        (f"{project}/followers?page=true", project),
        (f"{project}/forks", project),
        (f"{project}/forks?page=true", project),
        (f"{made.version}/replies", made.version),
        (f"{made.version}/replies?page=true", made.version),
        (f"{made.note}/replies", made.note),
        (f"{coop}/members", coop),
        (f"{coop}/members?page=true", coop),
    ]


COLLECTIONS = ("outbox", "followers", "following")


async def test_activitypub_clients_get_activity_json_everywhere(made: Objects) -> None:
    for url, _ in every_url(made):
        for accept in (ACTIVITY_JSON, LD_JSON, MASTODON_ACCEPT):
            async with made.node.client(headers={"Accept": accept}) as client:
                response = await client.get(url)
            assert response.status_code == 200, (url, accept, response.text[:200])
            assert response.headers["content-type"].split(";")[0] == ACTIVITY_JSON, url
            assert response.headers.get("vary") == "Accept", url  # caches key on Accept
            doc = response.json()
            assert doc["id"].split("?")[0] == url.split("?")[0], url
            assert "type" in doc, url


async def test_browsers_get_html_pages_with_the_alternate_link(made: Objects) -> None:
    for url, shown in every_url(made):
        async with made.node.client(headers={"Accept": BROWSER}) as client:
            first = await client.get(url)
            response = await client.get(url, follow_redirects=True)
        assert first.status_code in (200, 303), (url, first.status_code)
        assert response.status_code == 200, (url, response.text[:200])
        assert response.headers["content-type"].startswith("text/html"), url
        assert response.headers.get("vary") == "Accept", url
        assert shown in ALTERNATE.findall(response.text), (url, ALTERNATE.findall(response.text))


async def test_the_comment_page_shows_the_comment_and_its_design(made: Objects) -> None:
    async with made.node.client(headers={"Accept": BROWSER}) as client:
        response = await client.get(made.note)
    assert "Print it in PETG." in response.text
    assert f'id="design" href="{made.version}"' in response.text


async def test_unknown_objects_are_404_for_browsers_too(made: Objects) -> None:
    for path in ("/notes/nothing", "/activities/nothing", "/users/nobody/followers"):
        async with made.node.client(headers={"Accept": BROWSER}) as client:
            response = await client.get(path)
        assert response.status_code == 404, path
        # A page saying so, not the JSON programs get.
        assert response.headers["content-type"].startswith("text/html"), path
        assert '<p role="alert">' in response.text and "Not found" in response.text, path
