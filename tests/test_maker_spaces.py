"""Maker spaces across real instances: a cooperative on b.test publishes what it can make;
a.test learns it from the actor's Update (and from fetching the actor), and lists the
maker spaces it knows that can make a part, nearest first by town, region and country."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from actors.models import Actor
from tests.support import bearer, call, get, settle
from tests.test_design_federation import STL, activity_json, api_post, new_project
from tests.web_support import text_of

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


async def test_a_version_declares_its_needs_and_finds_who_can_meet_them(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice = await a.user("alice")
    _, fablab = await b.user("fablab", "cooperative")
    _, printers = await a.user("printers", "nonprofit")
    await new_project(a, alice, "stool")
    async with a.client() as client:
        published = await client.post(
            "/api/v1/designs/stool/versions",
            data={"label": "1", "name": "Stool", "licence": "CERN-OHL-S-2.0"}
            | {"needs_processes": "3d-printing, laser-cutting", "needs_volume": "200x200x200"},
            files=[("files", ("leg.stl", STL, "model/stl"))],
            headers=bearer(alice),
        )
        assert published.status_code == 201, published.text
        bad = await client.post(
            "/api/v1/designs/stool/versions",
            data={"label": "2", "name": "Stool", "needs_processes": "knitting"},
            files=[("files", ("leg.stl", STL, "model/stl"))],
            headers=bearer(alice),
        )
    assert bad.status_code == 422 and "3d-printing" in bad.json()["error"]
    version = published.json()
    needs = {
        "processes": ["3d-printing", "laser-cutting"],
        "buildVolume": {"x": 200, "y": 200, "z": 200, "unit": "mm"},
    }
    assert version["needs"] == needs
    assert (await activity_json(a, version["id"]))["makeNeeds"] == needs

    # b.test learns the version (and its needs) from its Page; a.test learns the
    # cooperative's maker space from its actor document when it fetches it.
    search = await get(b, "/api/v2/search", fablab, q=version["id"], resolve="true")
    assert search.status_code == 200, search.text
    on_b = await get(b, "/api/v1/versions", uri=version["id"])
    assert on_b.status_code == 200 and on_b.json()["needs"] == needs
    assert (await put_space(b, fablab, SPACE)).status_code == 200
    only_printing = {**SPACE, "town": "Bruges", "processes": SPACE["processes"][:1]}
    assert (await put_space(a, printers, only_printing)).status_code == 200
    follow = await api_post(a, alice, "/api/v1/follows", {"target": "@fablab@b.test"})
    assert follow.status_code == 202, follow.text
    await settle(a, b)

    who = await get(a, "/api/v1/maker_spaces", version=version["id"], town="Ghent")
    assert [s["handle"] for s in who.json()["maker_spaces"]] == ["fablab@b.test"]
    page = text_of((await get(a, "/users/stool/versions/1", town="Ghent")).text)
    assert "Who can make this" in page and "@fablab@b.test · Ghent, Flanders (BE)" in page
    assert "@printers@a.test" not in page  # it has no laser cutter
    unknown = await get(a, "/api/v1/maker_spaces", version="https://a.test/users/x/versions/1")
    assert unknown.status_code == 404

    # An okh.toml's processes (tsdc) are the needs of a version published from it.
    manifest = b'okhv = "OKH-LOSHv1.0"\nname = "Box"\ntsdc = ["LAS"]\nlicense = "MIT"\n'
    async with a.client() as client:
        boxed = await client.post(
            "/api/v1/designs/stool/versions",
            files=[("files", ("okh.toml", manifest, "application/toml"))],
            headers=bearer(alice),
        )
    assert boxed.status_code == 201, boxed.text
    assert boxed.json()["needs"] == {"processes": ["laser-cutting"]}

    # For an order of a PPL design, cooperatives (who may use it commercially) come first,
    # even from further away; without an order, the nearest comes first.
    async with a.client() as client:
        ppl = await client.post(
            "/api/v1/designs/stool/versions",
            data={"label": "4", "licence": "PPL", "needs_processes": "3d-printing"},
            files=[("files", ("leg.stl", STL, "model/stl"))],
            headers=bearer(alice),
        )
    assert ppl.status_code == 201, ppl.text
    near_bruges = {"version": ppl.json()["id"], "town": "Bruges"}
    browsing = await get(a, "/api/v1/maker_spaces", **near_bruges)
    assert [s["handle"] for s in browsing.json()["maker_spaces"]] == [
        "printers@a.test",
        "fablab@b.test",
    ]
    ordering = await get(a, "/api/v1/maker_spaces", **near_bruges, orders="true")
    assert [s["handle"] for s in ordering.json()["maker_spaces"]] == [
        "fablab@b.test",
        "printers@a.test",
    ]
