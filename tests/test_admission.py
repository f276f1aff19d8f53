"""Design admission, tried through every side door, as an attacker would.

The receiver (a.test) has a CC-BY-ND-4.0 design. A second real instance (c.test) hosts an
MIT "fork" of it published by a company-kind project: c.test's own rules are bypassed by
writing the version straight into its database, as a hostile peer would. The fork must
reach a.test by none of the paths that store a remote version: Create, Announce, search
with resolve, a comment on it, a fork of it. Each refusal stores nothing, counts nothing,
lists nothing in the lineage and notifies nobody; an inbox sender gets a `Reject`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from actors.models import Actor
from federation.db import utcnow
from objects import admission
from objects.admission import AdmittedVersion, insert_remote_version, store_remote_version
from objects.design_models import DesignVersion, Fork, Project
from objects.designs import VersionSpec, add_version, project_for_actor
from objects.licences import LicenceError
from objects.models import Interaction, Note, Notification
from outbox.designs import version_uri
from tests.support import Network, Node, call, count, get, settle
from tests.test_design_inbound import (
    Sender,
    activity,
    assert_sender_got,
    hand_made_host,
    local_version,
    rejects_of,
    remote_project,
    send,
)

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Attack:
    a: Node
    c: Node
    token: str  # a member of a.test
    upstream: str  # the CC-BY-ND-4.0 design on a.test
    hostile: Sender  # the company-kind project on c.test
    fork_uri: str  # its MIT "fork" of `upstream`


async def publish_unchecked(
    node: Node, sender: Sender, number: int, licence: str, upstream: str | None
) -> str:
    """A version of `sender`'s project written straight into `node`'s database, with no
    licence check: what a hostile instance can serve. Its URI."""
    async with node.instance.sessions() as session:
        actor = await session.scalar(select(Actor).where(Actor.uri == sender.uri))
        assert actor is not None
        project = await project_for_actor(session, actor)
        assert project is not None
        spec = VersionSpec(
            label=str(number),
            name=f"{actor.name} {number}",
            licence=node.instance.policy.terms(licence),
            upstream_uri=upstream,
        )
        uri = version_uri(actor, number)
        await add_version(session, project, actor, spec, uri=uri, local=True)
        await session.commit()
    return uri


@pytest.fixture
async def attack(nodes: Callable[..., Any], network: Network) -> Attack:
    a, c = await nodes("a.test"), await nodes("c.test")
    maker, _ = await a.user("maker")
    _, token = await a.user("mallory")
    upstream = await local_version(a, maker, "sprocket", "CC-BY-ND-4.0")
    hostile = await remote_project(c, "acme", "acmegear", "company")
    fork_uri = await publish_unchecked(c, hostile, 1, "MIT", upstream)
    return Attack(a, c, token, upstream, hostile, fork_uri)


async def assert_nothing_stored(attack: Attack) -> None:
    """Not stored, not counted, not in the lineage, nobody notified."""
    a = attack.a
    assert await count(a, DesignVersion, DesignVersion.uri == attack.fork_uri) == 0
    assert await count(a, Fork, Fork.fork_uri == attack.fork_uri) == 0
    assert await count(a, Project, Project.forks_count != 0) == 0
    assert await count(a, Notification) == 0
    assert await count(a, Interaction, Interaction.object_uri == attack.fork_uri) == 0
    lineage = await get(a, "/api/v1/lineage", version=attack.upstream)
    assert lineage.status_code == 200, lineage.text
    assert lineage.json()["descendants"]["forks"] == []
    page = await get(a, "/users/sprocket/lineage.svg")
    assert page.status_code == 200 and "acmegear" not in page.text


def assert_refusal(response: Any, attack: Attack) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert attack.upstream in error and "CC-BY-ND-4.0" in error, error


async def test_the_fork_is_refused_by_create(attack: Attack) -> None:
    sent = activity(attack.hostile, "Create", attack.fork_uri)  # by reference: fetched
    assert_refusal(await send(attack.a, attack.hostile, sent), attack)
    await settle(attack.a, attack.c)
    await assert_nothing_stored(attack)
    [reject] = await rejects_of(attack.a, sent["id"])
    await assert_sender_got(attack.c, attack.a, reject)


async def test_the_fork_is_refused_by_announce_and_the_sender_gets_a_reject(
    attack: Attack,
) -> None:
    sent = activity(attack.hostile, "Announce", attack.fork_uri)
    response = await send(attack.a, attack.hostile, sent)
    assert response.status_code == 202, response.text  # judged by the worker, after a fetch
    await attack.a.instance.inbox_worker.run_once()
    [reject] = await rejects_of(attack.a, sent["id"])
    assert attack.upstream in reject.payload["summary"]
    assert reject.payload["object"]["type"] == "Announce"
    await settle(attack.a, attack.c)
    await assert_nothing_stored(attack)
    await assert_sender_got(attack.c, attack.a, reject)


async def test_the_fork_is_not_stored_by_search(attack: Attack) -> None:
    response = await get(
        attack.a, "/api/v2/search", attack.token, q=attack.fork_uri, resolve="true"
    )
    assert response.status_code == 200, response.text
    assert response.json()["statuses"] == []
    await assert_nothing_stored(attack)


async def test_the_fork_is_refused_as_a_comment_target(attack: Attack) -> None:
    response = await call(
        attack.a,
        "POST",
        "/api/v1/comments",
        attack.token,
        json={"in_reply_to": attack.fork_uri, "content": "Nice gear!"},
    )
    assert_refusal(response, attack)
    assert await count(attack.a, Note) == 0
    await assert_nothing_stored(attack)


async def test_the_fork_is_refused_as_a_fork_source(attack: Attack) -> None:
    for body in (
        {"upstream": attack.fork_uri, "dry_run": True},
        {"upstream": attack.fork_uri, "slug": "mygear"},
    ):
        response = await call(attack.a, "POST", "/api/v1/forks", attack.token, json=body)
        assert_refusal(response, attack)
    assert await count(attack.a, Actor, Actor.username == "mygear") == 0
    await assert_nothing_stored(attack)


async def test_the_same_paths_store_an_admissible_fork(attack: Attack) -> None:
    """Positive control: a fork the rules allow (of a CC-BY-4.0 design, under CC-BY-4.0)
    gets in by search, and is counted like any fork."""
    async with attack.a.instance.sessions() as session:
        maker = await session.scalar(select(Actor).where(Actor.username == "maker"))
    assert maker is not None
    lever = await local_version(attack.a, maker, "lever", "CC-BY-4.0")
    carol = await remote_project(attack.c, "carol", "carolgear", "individual")
    fine = await publish_unchecked(attack.c, carol, 1, "CC-BY-4.0", lever)
    response = await get(attack.a, "/api/v2/search", attack.token, q=fine, resolve="true")
    assert [status["uri"] for status in response.json()["statuses"]] == [fine]
    assert await count(attack.a, Fork, Fork.fork_uri == fine) == 1
    assert await count(attack.a, Project, Project.forks_count == 1) == 1


# --- only http(s) ids -----------------------------------------------------------------------


async def test_a_javascript_id_is_refused(attack: Attack) -> None:
    evil = "javascript://c.test/%0Aalert(document.cookie)"
    note = {
        "id": evil,
        "type": "Note",
        "attributedTo": attack.hostile.uri,
        "content": "<p>hi</p>",
        "url": evil,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    for sent in (
        activity(attack.hostile, "Create", note),
        activity(attack.hostile, "Announce", evil),
        activity(attack.hostile, "Like", evil),
        {
            **activity(attack.hostile, "Create", {**note, "id": f"{attack.hostile.uri}/n1"}),
            "id": evil,
        },
    ):
        response = await send(attack.a, attack.hostile, sent)
        assert response.status_code == 422, response.text
        assert "http or https" in response.json()["error"]
    await settle(attack.a, attack.c)
    assert await count(attack.a, Note) == 0
    assert await count(attack.a, Interaction) == 0


async def test_an_actors_javascript_links_are_dropped(attack: Attack, network: Network) -> None:
    evil = "javascript://evil.test/%0Aalert(1)"
    sender = hand_made_host(network, "evil.test", url=evil, followers=evil, outbox=evil)
    actor = await attack.a.instance.resolver.get_actor(sender.uri)
    assert (actor.url, actor.followers_url, actor.outbox) == (None, None, None)
    response = await get(attack.a, "/api/v1/accounts/lookup", attack.token, acct="x@evil.test")
    assert response.status_code == 200, response.text
    assert response.json()["url"] == sender.uri


async def test_a_javascript_forked_from_is_refused(attack: Attack) -> None:
    carol = await remote_project(attack.c, "carol", "carolgear", "individual")
    bad = await publish_unchecked(attack.c, carol, 1, "MIT", "javascript://a.test/x")
    response = await get(attack.a, "/api/v2/search", attack.token, q=bad, resolve="true")
    assert response.json()["statuses"] == []
    assert await count(attack.a, DesignVersion, DesignVersion.uri == bad) == 0


# --- structure: storing needs the admission --------------------------------------------------


async def test_storing_a_raw_spec_is_a_type_error(attack: Attack) -> None:
    spec = VersionSpec(
        label="1", name="x", licence=attack.a.instance.policy.terms("MIT"), uri=attack.fork_uri
    )
    with pytest.raises(TypeError, match="admission"):
        AdmittedVersion(spec, 1, attack.hostile.uri)
    async with attack.a.instance.sessions() as session:
        actor = await session.scalar(select(Actor).limit(1))
        assert actor is not None
        for store in (store_remote_version, insert_remote_version):
            with pytest.raises(TypeError, match="AdmittedVersion"):
                await store(session, actor, spec)  # type: ignore[arg-type]
    assert await count(attack.a, DesignVersion, DesignVersion.uri == attack.fork_uri) == 0
    for store in (store_remote_version, insert_remote_version):
        assert inspect.signature(store).parameters["admitted"].annotation == "AdmittedVersion"


def test_every_remote_version_is_stored_through_the_admission() -> None:
    """Only objects.admission writes a received version: `add_version(..., local=False)`
    nowhere else, and the storing functions are called only where an admission precedes."""
    sources = {
        path.relative_to(ROOT).as_posix(): path.read_text()
        for folder in ("actors", "federation", "objects", "outbox", "inbox", "web")
        for path in (ROOT / folder).rglob("*.py")
    }
    adders = sorted(
        name
        for name, text in sources.items()
        if re.search(r"\badd_version\(", text) and name != "objects/designs.py"
    )
    assert adders == ["objects/admission.py", "outbox/designs.py"]
    assert "local=True" in sources["outbox/designs.py"].split("add_version(", 1)[1][:200]
    storing = re.compile(r"\b(store_remote_version|insert_remote_version)\(")
    callers = sorted(name for name, text in sources.items() if storing.search(text))
    assert callers == [
        "inbox/design_handlers.py",
        "objects/admission.py",
        "objects/design_resolve.py",
    ]
    assert "admit_remote_version(" in sources["objects/design_resolve.py"]
    assert "AdmittedVersion" in sources["inbox/design_handlers.py"]
    assert admission.AdmittedVersion is AdmittedVersion


async def test_an_admitted_version_cannot_be_altered_into_another(attack: Attack) -> None:
    a = attack.a.instance
    carol = await remote_project(attack.c, "carol", "carolgear", "individual")
    fine = await publish_unchecked(attack.c, carol, 1, "CC-BY-4.0", None)
    admitted = await admission.admit_remote_version(
        a.sessions, a.resolver, a.policy, await a.resolver.fetch_document(fine)
    )
    assert admitted.uri == fine and admitted.project_actor_uri == carol.uri
    with pytest.raises(TypeError, match="admission"):
        dataclasses.replace(
            admitted, spec=dataclasses.replace(admitted.spec, upstream_uri=attack.upstream)
        )
    with pytest.raises(AttributeError):
        admitted.spec = admitted.spec  # type: ignore[misc]
    # The bad fork itself never gets one.
    with pytest.raises(LicenceError, match=r"CC-BY-ND-4\.0"):
        await admission.admit_remote_version(
            a.sessions, a.resolver, a.policy, await a.resolver.fetch_document(attack.fork_uri)
        )


async def test_an_upstream_out_of_reach_when_storing_is_retried_not_rejected(
    nodes: Callable[..., Any], network: Network
) -> None:
    """The worker admits a Create again before storing it; when the upstream's host is down
    then, the item waits for a retry instead of being refused."""
    a, c = await nodes("a.test"), await nodes("c.test")
    owner, _ = await c.user("dave")
    upstream = await local_version(c, owner, "sprocket", "CC-BY-4.0")
    carol = await remote_project(c, "carol", "carolgear", "individual")
    fork = await publish_unchecked(c, carol, 1, "CC-BY-4.0", upstream)
    sent = activity(carol, "Create", fork)
    assert (await send(a, carol, sent)).status_code == 202
    network.down.add("c.test")
    await a.instance.inbox_worker.run_once()
    assert await count(a, DesignVersion) == 0
    assert await rejects_of(a, sent["id"]) == []
    network.down.discard("c.test")
    worker = a.instance.inbox_worker
    worker.clock = lambda: utcnow() + dt.timedelta(days=1)
    await worker.run_once()
    assert await count(a, DesignVersion, DesignVersion.uri == fork) == 1
    assert await rejects_of(a, sent["id"]) == []
