"""Hash-linked history: each version names its predecessor and the digest of its core, a
fork its upstream the same way, and `check_history` verifies the chain from any copy."""

from __future__ import annotations

import copy
from typing import Any

from federation import proofs
from objects.history import check_history, core_digest
from tests.support import ACTIVITY_JSON, Node, call, settle


def stl(number: int) -> bytes:
    return f"solid trailer{number}\nendsolid trailer{number}\n".encode()


async def ap_get(node: Node, url: str) -> dict[str, Any]:
    async with node.client(headers={"Accept": ACTIVITY_JSON}) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def three_versions(a: Node) -> tuple[str, list[str]]:
    _, token = await a.user("alice")
    made = await call(a, "POST", "/api/v1/designs", token, json={"slug": "trailer"})
    assert made.status_code == 201, made.text
    ids = []
    for number in (1, 2, 3):
        version = await call(
            a, "POST", "/api/v1/designs/trailer/versions", token,
            data={"licence": "cc-by-sa-4.0", "label": f"{number}.0"},
            files=[("files", (f"frame{number}.stl", stl(number), "model/stl"))],
        )  # fmt: skip
        assert version.status_code == 201, version.text
        ids.append(version.json()["id"])
    return token, ids


def keys_of(actor: dict[str, Any]) -> dict[str, Any]:
    return {
        key["id"]: proofs.public_key_of(key["publicKeyMultibase"])
        for key in actor["assertionMethod"]
    }


async def test_versions_chain_and_the_chain_checks_from_any_copy(nodes: Any) -> None:
    a = await nodes("a.test")
    token, ids = await three_versions(a)
    pages = [await ap_get(a, uri) for uri in ids]
    keys = keys_of(await ap_get(a, "https://a.test/users/trailer"))
    first, second, third = pages
    assert "previousVersion" not in first
    assert second["previousVersion"] == ids[0]
    assert second["previousVersionDigest"] == core_digest(first)
    assert third["previousVersionDigest"].startswith("uEi")
    checked = check_history(pages, keys=keys)
    assert checked.holds, checked.problems
    assert checked.checked == list(reversed(ids))

    # A text fix changes the Page but not its core: the chain still holds.
    fixed = await call(
        a, "PATCH", f"/api/v1/versions?uri={ids[0]}", token, json={"summary": "Typo fixed"}
    )
    assert fixed.status_code == 200, fixed.text
    refetched = [await ap_get(a, uri) for uri in ids]
    assert refetched[0]["designSummary"] == "Typo fixed"
    assert check_history(refetched, keys=keys).holds

    # One changed byte of a file's digest, or one changed licence word, is found.
    forged = copy.deepcopy(pages)
    forged[0]["files"][0]["sha256"] = "0" + forged[0]["files"][0]["sha256"][1:]
    found = check_history(forged)
    assert not found.holds and f"{ids[0]} is not the version {ids[1]}" in found.problems[0]
    relicensed = copy.deepcopy(pages)
    relicensed[1]["licenseExpression"] = "CC-BY-4.0"
    found = check_history(relicensed, keys=keys)
    assert f"the integrity proof of {ids[1]} does not hold" in found.problems
    assert any(f"{ids[1]} is not the version {ids[2]}" in p for p in found.problems)
    # A missing version breaks the chain where it was.
    assert not check_history([first, third]).holds  # two chains: which is the head?
    gap = check_history([first, third], head=ids[2])
    assert gap.problems == [f"{ids[2]} names {ids[1]} before it, which is missing"]


async def test_a_fork_names_its_upstream_by_digest(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, ids = await three_versions(a)
    _, bob_token = await b.user("bob")
    forked = await call(
        b, "POST", "/api/v1/forks", bob_token,
        json={"upstream": ids[2], "slug": "bobtrailer", "licence": "CC-BY-SA-4.0"},
    )  # fmt: skip
    assert forked.status_code == 201, forked.text
    await settle(a, b)
    fork = await ap_get(b, forked.json()["version"]["id"])
    upstream = await ap_get(a, ids[2])  # as its origin serves it
    assert fork["forkedFrom"] == ids[2]
    assert fork["forkedFromDigest"] == core_digest(upstream)
    keys = keys_of(await ap_get(b, "https://b.test/users/bobtrailer"))
    assert check_history([fork], keys=keys, upstream=upstream).holds
    altered = {**upstream, "versionLabel": "3.1"}
    found = check_history([fork], upstream=altered)
    assert found.problems == [
        f"{ids[2]} is not the version {fork['id']} was forked from: its digest differs"
    ]
