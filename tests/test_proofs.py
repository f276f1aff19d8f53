"""Object integrity proofs (FEP-8b32, eddsa-jcs-2022): what we sign, Fedify (from npm, run by
Node) verifies; what Fedify signs, we verify; a forged or altered proof is refused."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from starlette.applications import Starlette

from actors.proof_check import verified_controllers
from actors.proof_keys import signed_by
from federation import proofs
from federation.keys import load_rsa_private_pem
from federation.proofs import ProofError
from inbox.models import InboxItem
from outbox.models import OutboxActivity
from tests.support import ACTIVITY_JSON, Network, Node, call, count, signed_post

ROOT = Path(__file__).parent.parent
SCRIPT = Path(__file__).parent / "fedify_proofs.mjs"
STL = b"solid hinge\nendsolid hinge\n"


async def fedify(request: dict[str, Any]) -> dict[str, Any]:
    assert (ROOT / "node_modules" / "@fedify" / "fedify").is_dir(), "run `npm ci` first"
    process = await asyncio.create_subprocess_exec(
        "node", str(SCRIPT), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(120):
        out, err = await process.communicate(json.dumps(request).encode())
    assert process.returncode == 0, err.decode()
    return json.loads(out)  # type: ignore[no-any-return]


# --- the cryptosuite itself -------------------------------------------------------------


def test_a_proof_holds_and_any_change_breaks_it() -> None:
    key = Ed25519PrivateKey.generate()
    doc = {
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "id": "https://a.test/users/hinge/versions/1",
        "type": "Page",
        "content": "Print at 0.2 mm, « infill » 20 %",
        "licenseExpression": "CERN-OHL-S-2.0",
    }
    signed = proofs.sign(doc, key, "https://a.test/users/hinge#ed25519-key")
    assert signed["@context"][1] == proofs.DATA_INTEGRITY_CONTEXT
    assert signed["proof"]["proofValue"].startswith("z")
    [proof] = proofs.proofs_of(signed)
    assert proofs.holds(signed, proof, key.public_key())
    for field, forged in (("content", "Print at 0.3 mm, « infill » 20 %"),
                          ("licenseExpression", "CERN-OHL-P-2.0")):  # fmt: skip
        assert not proofs.holds({**signed, field: forged}, proof, key.public_key())
    assert not proofs.holds(signed, proof, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(ProofError, match="cryptosuite"):
        proofs.proofs_of({**signed, "proof": {**signed["proof"], "cryptosuite": "rsa-2017"}})
    with pytest.raises(ProofError, match="does not hold"):
        proofs.check({**signed, "content": "x"}, proof, key.public_key())
    multikey = proofs.multikey(key.public_key())
    assert multikey.startswith("z6Mk") and proofs.public_key_of(multikey) == key.public_key()


# --- our documents, on a real instance, verified by Fedify -------------------------------


async def ap_get(node: Node, url: str) -> dict[str, Any]:
    async with node.client(headers={"Accept": ACTIVITY_JSON}) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def publish_hinge(a: Node) -> tuple[str, dict[str, Any]]:
    _, token = await a.user("alice")
    made = await call(a, "POST", "/api/v1/designs", token, json={"slug": "hinge"})
    assert made.status_code == 201, made.text
    version = await call(
        a, "POST", "/api/v1/designs/hinge/versions", token,
        data={"licence": "cern-ohl-s-2.0"}, files=[("files", ("hinge.stl", STL, "model/stl"))],
    )  # fmt: skip
    assert version.status_code == 201, version.text
    return token, version.json()


def own_check(doc: dict[str, Any], actor_doc: dict[str, Any]) -> None:
    [multikey] = actor_doc["assertionMethod"]
    assert multikey["type"] == "Multikey" and multikey["controller"] == actor_doc["id"]
    [proof] = proofs.proofs_of(doc)
    assert proof.verification_method == multikey["id"]
    assert proofs.holds(doc, proof, proofs.public_key_of(multikey["publicKeyMultibase"]))


async def test_fedify_verifies_what_we_sign(nodes: Any) -> None:
    a = await nodes("a.test")
    _, version = await publish_hinge(a)
    alice = await ap_get(a, "https://a.test/users/alice")
    project = await ap_get(a, "https://a.test/users/hinge")
    page = await ap_get(a, version["id"])
    async with a.instance.sessions() as session:
        create = await session.scalar(
            select(OutboxActivity.payload).where(OutboxActivity.object_uri == version["id"])
        )
    assert create is not None and create["type"] == "Create"
    for doc, signer in ((alice, alice), (project, project), (page, project), (create, project)):
        own_check(doc, signer)
    # The Page inside the Create is signed on its own, so it can travel without it.
    own_check(create["object"], project)
    # The key is made once and kept: the actor document shows the same one again.
    assert (await ap_get(a, "https://a.test/users/hinge"))["assertionMethod"] == project[
        "assertionMethod"
    ]
    documents = {alice["id"]: alice, project["id"]: project}
    key = project["assertionMethod"][0]["id"]
    for doc in (project, create):
        verdict = await fedify({"mode": "verify", "document": doc, "documents": documents})
        assert verdict == {"verified": [key], "object": True}
    assert (await fedify({"mode": "verify", "document": page, "documents": documents}))[
        "verified"
    ] == [key]
    assert (await fedify({"mode": "verify", "document": alice, "documents": documents}))[
        "verified"
    ] == [alice["assertionMethod"][0]["id"]]
    forged = copy.deepcopy(page)
    forged["licenseExpression"] = "CC0-1.0"
    assert (await fedify({"mode": "verify", "document": forged, "documents": documents}))[
        "verified"
    ] == []


# --- Fedify's proofs, verified by us ----------------------------------------------------


async def test_we_verify_what_fedify_signs(nodes: Any, network: Network) -> None:
    a = await nodes("a.test")
    actor = "https://f.test/users/f"
    note = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://f.test/notes/1",
        "type": "Note",
        "attributedTo": actor,
        "content": "Signed by Fedify",
    }
    made = await fedify({"mode": "sign", "actor": actor, "object": note})
    served = {actor: made["actor"]}

    def answer(request: httpx.Request) -> httpx.Response:
        doc = served.get(str(request.url).split("#")[0])
        return httpx.Response(200, json=doc) if doc else httpx.Response(404)

    network.add("f.test", Starlette())  # a host on the network, answered by `answer`
    network.intercept["f.test"] = answer
    assert await verified_controllers(a.instance.resolver, made["signed"]) == {actor}
    with pytest.raises(ProofError, match="does not hold"):
        await verified_controllers(a.instance.resolver, {**made["signed"], "content": "Forged"})
    other = {**made["signed"]["proof"], "verificationMethod": actor + "#another-key"}
    with pytest.raises(ProofError, match="does not publish"):
        await verified_controllers(a.instance.resolver, {**made["signed"], "proof": other})


# --- the inbox refuses an altered proof ---------------------------------------------------


async def test_the_inbox_refuses_an_activity_whose_proof_does_not_hold(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    bob, _ = await b.user("bob")
    async with b.instance.sessions() as session:
        merged = await session.merge(bob)
        note = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "https://b.test/notes/1",
            "type": "Note",
            "attributedTo": bob.uri,
            "content": "A hinge for the lid",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        }
        activity = await signed_by(
            session, merged, {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": "https://b.test/activities/1", "type": "Create", "actor": bob.uri,
                "object": await signed_by(session, merged, note),
                "to": note["to"],
            },
        )  # fmt: skip
        await session.commit()
    key = load_rsa_private_pem(bob.private_key_pem or "")
    forged = copy.deepcopy(activity)
    forged["object"]["content"] = "A hinge for the lid, by someone else"
    refused = await signed_post(a, "/inbox", json.dumps(forged).encode(), bob.public_key_id, key)
    assert refused.status_code == 401 and "does not hold" in refused.text
    assert await count(a, InboxItem) == 0
    accepted = await signed_post(a, "/inbox", json.dumps(activity).encode(), bob.public_key_id, key)
    assert accepted.status_code == 202, accepted.text
    assert await count(a, InboxItem) == 1
