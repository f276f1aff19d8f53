"""A lineage cycle planted by a peer: refused when it can be seen, bounded when it cannot.

A second real instance (c.test) serves two projects whose versions name each other in
forkedFrom, each licence-valid on its own, and sends their Creates to a.test with real
signed requests. Sent one after the other, the second closes a cycle that a.test sees and
refuses. Sent together, both are judged before either is stored, so the cycle gets in; more
versions then add many paths between the two projects, and a local fork of one hangs the
cycle under a.test's own pages. Every lineage answer must still come quickly, each version
and project listed once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from objects.design_models import DesignVersion, Fork
from tests.support import Network, Node, call, count, get, settle
from tests.test_admission import publish_unchecked
from tests.test_design_inbound import Sender, activity, rejects_of, remote_project, send

LICENCE = "CC-BY-4.0"
EXTRA_VERSIONS = 4


def version_of(sender: Sender, number: int) -> str:
    return f"{sender.uri}/versions/{number}"


async def create(node: Node, sender: Sender, number: int) -> Any:
    return await send(node, sender, activity(sender, "Create", version_of(sender, number)))


@pytest.fixture
async def peers(nodes: Callable[..., Any], network: Network) -> tuple[Node, Node, Sender, Sender]:
    a, c = await nodes("a.test"), await nodes("c.test")
    left = await remote_project(c, "lena", "left", "individual")
    right = await remote_project(c, "rick", "right", "individual")
    await publish_unchecked(c, left, 1, LICENCE, version_of(right, 1))
    await publish_unchecked(c, right, 1, LICENCE, version_of(left, 1))
    return a, c, left, right


async def test_a_version_that_closes_a_cycle_is_refused(
    peers: tuple[Node, Node, Sender, Sender],
) -> None:
    a, c, left, right = peers
    assert (await create(a, left, 1)).status_code == 202
    await settle(a, c)
    sent = activity(right, "Create", version_of(right, 1))
    response = await send(a, right, sent)
    assert response.status_code == 422, response.text
    assert "cycle" in response.json()["error"]
    assert await count(a, DesignVersion, DesignVersion.uri == version_of(right, 1)) == 0
    assert len(await rejects_of(a, sent["id"])) == 1


async def timed(node: Node, path: str, **params: Any) -> Any:
    started = time.monotonic()
    response = await get(node, path, **params)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, (path, response.text[:500])
    assert elapsed < 1.0, (path, elapsed)
    return response


async def test_a_planted_cycle_gives_bounded_answers_quickly(
    peers: tuple[Node, Node, Sender, Sender],
) -> None:
    a, c, left, right = peers
    # Both Creates are accepted at the door, then judged together before either is stored.
    assert (await create(a, left, 1)).status_code == 202
    assert (await create(a, right, 1)).status_code == 202
    await settle(a, c)
    assert await count(a, DesignVersion) == 2
    # Many paths between the two projects, in both directions, each version on its own valid.
    for number in range(2, 2 + EXTRA_VERSIONS):
        await publish_unchecked(c, left, number, LICENCE, version_of(right, 1))
        await publish_unchecked(c, right, number, LICENCE, version_of(left, 1))
        assert (await create(a, left, number)).status_code == 202
        assert (await create(a, right, number)).status_code == 202
        await settle(a, c)
    assert await count(a, DesignVersion) == 2 + 2 * EXTRA_VERSIONS
    assert await count(a, Fork) == 2 + 2 * EXTRA_VERSIONS

    # A member of a.test forks into the cycle, so that a.test's own pages reach it.
    _, token = await a.user("maker")
    forked = await call(
        a, "POST", "/api/v1/forks", token, json={"upstream": version_of(left, 1), "slug": "mine"}
    )
    assert forked.status_code == 201, forked.text
    mine = forked.json()["version"]["id"]

    for version in (version_of(left, 1), version_of(right, 3), mine):
        body = (await timed(a, "/api/v1/lineage", version=version)).json()
        ancestors = body["ancestors"]
        assert len(ancestors) == len(set(ancestors)) <= 3, ancestors
        assert ancestors[0] == version
        projects = _projects(body["descendants"])
        assert len(projects) == len(set(projects)), projects
        assert set(projects) <= {left.uri, right.uri, a.instance.urls.actor("mine")}
    page = await timed(a, "/users/mine/lineage")
    assert "left" in page.text.lower() and "right" in page.text.lower()
    picture = await timed(a, "/users/mine/lineage.svg")
    assert "right" in picture.text.lower()


def _projects(node: dict[str, Any]) -> list[str]:
    found = [node["project"]]
    for child in node["forks"]:
        found += _projects(child)
    return found
