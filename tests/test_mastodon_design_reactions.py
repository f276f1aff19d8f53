"""Designs in apps: a design version (status id `v…`) is favourited and boosted like a
note, federated as a `Like` or `Announce` of the version's Page to its project, and
counted there; a project's account counts its versions as its statuses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from outbox.models import OutboxActivity
from tests.support import call, get, settle
from tests.test_mastodon_statuses import design


async def test_favourite_and_boost_a_version_across_instances(nodes: Any) -> None:
    a = await nodes("a.test")
    b = await nodes("b.test")
    _, token = await a.user("alice")
    _, bea_token = await b.user("bea")
    version = await design(a, token, "lamp")
    [here] = (await get(a, "/api/v1/timelines/public")).json()
    assert here["account"]["statuses_count"] == 1  # the project's version
    # The cooperative's own actor boosts every new design of its members.
    boosts = here["reblogs_count"]
    assert here["favourites_count"] == 0
    found = await get(b, "/api/v2/search", bea_token, q=version["id"], resolve="true")
    [there] = found.json()["statuses"]
    assert there["id"].startswith("v")
    path = f"/api/v1/statuses/{there['id']}"

    liked = await call(b, "POST", f"{path}/favourite", bea_token)
    assert liked.status_code == 200, liked.text
    assert liked.json()["favourited"] is True and liked.json()["favourites_count"] == 1
    boosted = await call(b, "POST", f"{path}/reblog", bea_token)
    assert boosted.status_code == 200, boosted.text
    assert boosted.json()["reblog"]["id"] == there["id"]
    assert boosted.json()["reblog"]["reblogs_count"] == 1
    async with b.instance.sessions() as session:
        sent = list(await session.execute(select(OutboxActivity.type, OutboxActivity.payload)))
    kinds = {kind: payload for kind, payload in sent if kind in ("Like", "Announce")}
    assert kinds["Like"]["object"] == version["id"] and kinds["Announce"]["object"] == version["id"]
    await settle(a, b)
    counted = (await get(a, f"/api/v1/statuses/{here['id']}")).json()
    assert counted["favourites_count"] == 1 and counted["reblogs_count"] == boosts + 1
    who = (await get(a, f"/api/v1/statuses/{here['id']}/favourited_by")).json()
    assert [account["acct"] for account in who] == ["bea@b.test"]

    assert (await call(b, "POST", f"{path}/unfavourite", bea_token)).status_code == 200
    unboosted = await call(b, "POST", f"{path}/unreblog", bea_token)
    assert unboosted.json()["reblogs_count"] == 0 and unboosted.json()["reblogged"] is False
    await settle(a, b)
    counted = (await get(a, f"/api/v1/statuses/{here['id']}")).json()
    assert counted["favourites_count"] == 0 and counted["reblogs_count"] == boosts


async def test_a_local_person_boosts_a_version_into_followers_homes(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    _, carol_token = await a.user("carol")
    await design(a, token, "chair")
    [version] = (await get(a, "/api/v1/timelines/public")).json()
    await call(a, "POST", f"/api/v1/accounts/{bea.id}/follow", carol_token)
    boosted = (await call(a, "POST", f"/api/v1/statuses/{version['id']}/reblog", bea_token)).json()
    [shown] = (await get(a, "/api/v1/timelines/home", carol_token)).json()
    assert shown["id"] == boosted["id"] and shown["reblog"]["id"] == version["id"]
    assert shown["reblog"]["reblogs_count"] == version["reblogs_count"] + 1
