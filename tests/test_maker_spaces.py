"""Maker spaces across real instances: a cooperative on b.test publishes what it can make;
a.test learns it from the actor's Update (and from fetching the actor), and lists the
maker spaces it knows that can make a part, nearest first by town, region and country."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from actors.models import Actor
from tests.support import call, get, settle
from tests.test_design_federation import activity_json, api_post

SPACE = {
    "town": "Ghent",
    "region": "Flanders",
    "country": "be",
    "takes_orders": True,
    "processes": [
        {"process": "3d-printing", "build_volume": "250x210x210", "materials": ["PLA", "PETG"]},
        {"process": "laser-cutting", "build_volume": [600, 400, 10]},
    ],
}


async def put_space(node: Any, token: str, body: dict[str, Any]) -> Any:
    return await call(node, "PUT", "/api/v1/maker_space", token, json=body)


async def test_maker_spaces_federate_and_are_found_nearest_first(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice = await a.user("alice")
    _, near = await a.user("makerhub", "nonprofit")
    fablab, fablab_token = await b.user("fablab", "cooperative")
    _, company = await b.user("bigco", "company")

    # A company may not publish one; a bad process is refused with the list.
    refused = await put_space(b, company, SPACE)
    assert refused.status_code == 403 and "cooperatives and nonprofits" in refused.json()["error"]
    bad = await put_space(b, fablab_token, {**SPACE, "processes": [{"process": "magic"}]})
    assert bad.status_code == 422 and "3d-printing" in bad.json()["error"]

    # Alice follows the cooperative, which then publishes its maker space.
    follow = await api_post(a, alice, "/api/v1/follows", {"target": "@fablab@b.test"})
    assert follow.status_code == 202, follow.text
    await settle(a, b)
    saved = await put_space(b, fablab_token, SPACE)
    assert saved.status_code == 200, saved.text
    document = await activity_json(b, fablab.uri)
    assert document["makerSpace"]["town"] == "Ghent"
    assert document["makerSpace"]["country"] == "BE"
    assert document["makerSpace"]["processes"][0]["buildVolume"] == {
        "x": 250,
        "y": 210,
        "z": 210,
        "unit": "mm",
    }
    await settle(a, b)

    # A local nonprofit in another town of the same country.
    local = await put_space(
        a,
        near,
        {
            "town": "Antwerp",
            "region": "Flanders",
            "country": "BE",
            "processes": [{"process": "3d-printing", "build_volume": "300x300x400"}],
        },
    )
    assert local.status_code == 200, local.text

    found = await get(
        a, "/api/v1/maker_spaces", process="3d-printing", volume="200x200x200", town="Ghent"
    )
    assert found.status_code == 200, found.text
    listed = found.json()["maker_spaces"]
    assert [s["actor"] for s in listed] == [fablab.uri, "https://a.test/users/makerhub"]
    assert listed[0]["distance"] == "town" and listed[0]["local"] is False
    assert listed[1]["distance"] == "elsewhere"
    by_region = await get(a, "/api/v1/maker_spaces", process="3d-printing", town="Antwerp")
    assert [s["handle"] for s in by_region.json()["maker_spaces"]] == [
        "makerhub@a.test",
        "fablab@b.test",
    ]
    # Too big for the cooperative's printer (in any orientation): only the local one fits.
    big = await get(a, "/api/v1/maker_spaces", process="3d-printing", volume="220x220x350")
    assert [s["handle"] for s in big.json()["maker_spaces"]] == ["makerhub@a.test"]
    orders = await get(a, "/api/v1/maker_spaces", process="3d-printing", orders="true")
    assert [s["handle"] for s in orders.json()["maker_spaces"]] == ["fablab@b.test"]
    assert (await get(a, "/api/v1/maker_spaces", process="knitting")).status_code == 400

    # Withdrawn: the Update reaches a.test and the cooperative is no longer listed.
    withdrawn = await put_space(b, fablab_token, {"maker_space": None})
    assert withdrawn.status_code == 200 and withdrawn.json()["maker_space"] is None
    await settle(a, b)
    after = await get(a, "/api/v1/maker_spaces", process="laser-cutting")
    assert after.json()["maker_spaces"] == []
    async with a.instance.sessions() as session:
        row = await session.scalar(select(Actor).where(Actor.uri == fablab.uri))
    assert row is not None and "makerSpace" not in (row.document or {})
