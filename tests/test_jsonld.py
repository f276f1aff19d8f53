"""Offline JSON-LD: bundled contexts only, never the network."""

from __future__ import annotations

import json
import socket
from importlib import resources
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

from federation.errors import ValidationError
from federation.jsonld import BUNDLED_CONTEXTS, compact, document_loader, expand
from federation.vocab import ACTOR_CONTEXT, MAKE_CONTEXT, OURDESIGN_NS

AS = "https://www.w3.org/ns/activitystreams#"
SEC = "https://w3id.org/security#"
LDP_INBOX = "http://www.w3.org/ns/ldp#inbox"
TOOT = "http://joinmastodon.org/ns#"

MASTODON_ACTOR: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "toot": "http://joinmastodon.org/ns#",
            "featured": {"@id": "toot:featured", "@type": "@id"},
            "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
            "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
            "movedTo": {"@id": "as:movedTo", "@type": "@id"},
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        },
    ],
    "id": "https://mastodon.example/users/alice",
    "type": "Person",
    "following": "https://mastodon.example/users/alice/following",
    "followers": "https://mastodon.example/users/alice/followers",
    "inbox": "https://mastodon.example/users/alice/inbox",
    "outbox": "https://mastodon.example/users/alice/outbox",
    "featured": "https://mastodon.example/users/alice/collections/featured",
    "preferredUsername": "alice",
    "name": "Alice",
    "manuallyApprovesFollowers": False,
    "discoverable": True,
    "publicKey": {
        "id": "https://mastodon.example/users/alice#main-key",
        "owner": "https://mastodon.example/users/alice",
        "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIB...\n-----END PUBLIC KEY-----\n",
    },
    "endpoints": {"sharedInbox": "https://mastodon.example/inbox"},
}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) any attempt to resolve or connect."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args))
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_mastodon_actor_expands_offline(no_network: list[str]) -> None:
    (node,) = expand(MASTODON_ACTOR)
    assert node["@id"] == "https://mastodon.example/users/alice"
    assert node["@type"] == [AS + "Person"]
    assert node[LDP_INBOX] == [{"@id": "https://mastodon.example/users/alice/inbox"}]
    assert node[AS + "outbox"] == [{"@id": "https://mastodon.example/users/alice/outbox"}]
    assert node[AS + "preferredUsername"] == [{"@value": "alice"}]
    assert node[AS + "manuallyApprovesFollowers"] == [{"@value": False}]
    assert node[TOOT + "featured"] == [
        {"@id": "https://mastodon.example/users/alice/collections/featured"}
    ]
    (key,) = node[SEC + "publicKey"]
    assert key["@id"] == "https://mastodon.example/users/alice#main-key"
    assert key[SEC + "owner"] == [{"@id": "https://mastodon.example/users/alice"}]
    assert key[SEC + "publicKeyPem"][0]["@value"].startswith("-----BEGIN PUBLIC KEY-----")
    (endpoints,) = node[AS + "endpoints"]
    assert endpoints[AS + "sharedInbox"] == [{"@id": "https://mastodon.example/inbox"}]
    assert no_network == []


def test_compact_round_trip(no_network: list[str]) -> None:
    context = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
    document = compact({"@graph": expand(MASTODON_ACTOR)}, context)
    assert document["@context"] == context
    assert document["type"] == "Person"
    assert document["inbox"] == "https://mastodon.example/users/alice/inbox"
    assert document["publicKey"]["owner"] == "https://mastodon.example/users/alice"
    assert no_network == []


def test_unknown_remote_context_raises_without_network(no_network: list[str]) -> None:
    document = {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://evil.example/context.jsonld",
        ],
        "type": "Note",
        "content": "hi",
    }
    with pytest.raises(ValidationError, match=r"https://evil\.example/context\.jsonld"):
        expand(document)
    with pytest.raises(ValidationError):
        compact({"type": "Note"}, "https://evil.example/context.jsonld")
    assert no_network == []


def test_multikey_and_data_integrity_contexts(no_network: list[str]) -> None:
    # Shaped like a FEP-521a actor with an object integrity proof (as Fedify publishes them).
    document = {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/data-integrity/v1",
            "https://w3id.org/security/multikey/v1",
            {"assertionMethod": {"@id": SEC + "assertionMethod", "@type": "@id"}},
        ],
        "id": "https://example.com/users/alice",
        "type": "Person",
        "assertionMethod": [
            {
                "id": "https://example.com/users/alice#ed25519-key",
                "type": "Multikey",
                "controller": "https://example.com/users/alice",
                "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            }
        ],
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": "https://example.com/users/alice#ed25519-key",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3sXaxjKs4M3BRicwWA9peyNPJvJqxtGsDmRfg",
        },
    }
    (node,) = expand(document)
    (key,) = node[SEC + "assertionMethod"]
    assert key["@type"] == [SEC + "Multikey"]
    assert key[SEC + "controller"] == [{"@id": "https://example.com/users/alice"}]
    assert key[SEC + "publicKeyMultibase"][0]["@type"] == SEC + "multibase"
    ((proof,),) = (graph["@graph"] for graph in node[SEC + "proof"])
    assert proof["@type"] == [SEC + "DataIntegrityProof"]
    assert proof[SEC + "proofPurpose"] == [{"@id": SEC + "assertionMethod"}]
    assert proof[SEC + "verificationMethod"] == [
        {"@id": "https://example.com/users/alice#ed25519-key"}
    ]
    assert no_network == []


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/ns/activitystreams",
        "http://www.w3.org/ns/activitystreams",
        "https://www.w3.org/ns/activitystreams/",
        "https://www.w3.org/ns/activitystreams.jsonld",
        "https://WWW.W3.ORG/ns/activitystreams",
    ],
)
def test_loader_accepts_variants_of_the_same_url(url: str) -> None:
    remote = document_loader(url, {})
    assert remote["documentUrl"] == url
    assert remote["contentType"] == "application/ld+json"
    assert remote["document"]["@context"]["as"] == AS


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/context.jsonld",
        "https://www.w3.org/ns/activitystreams?x=1",
        "https://www.w3.org/ns/activitystreams#frag",
        "ftp://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v2",
        "https://www.w3.org/ns",
        "not a url",
    ],
)
def test_loader_refuses_everything_else(url: str, no_network: list[str]) -> None:
    with pytest.raises(pyld_jsonld.JsonLdError):
        document_loader(url)
    assert no_network == []


def test_loader_returns_a_fresh_copy() -> None:
    first = document_loader("https://w3id.org/security/v1")
    first["document"]["@context"]["publicKeyPem"] = "tampered"
    second = document_loader("https://w3id.org/security/v1")
    assert second["document"]["@context"]["publicKeyPem"] == "sec:publicKeyPem"


@pytest.mark.parametrize("name", sorted(BUNDLED_CONTEXTS.values()))
def test_bundled_files_are_context_documents(name: str) -> None:
    text = resources.files("federation.contexts").joinpath(name).read_text(encoding="utf-8")
    assert isinstance(json.loads(text)["@context"], dict)


def test_a_make_and_a_maker_space_expand_to_our_terms(no_network: list[str]) -> None:
    """The make's properties and an actor's makerSpace mean what docs/FEDERATION.md says
    to any JSON-LD reader, offline."""
    make = {
        "@context": MAKE_CONTEXT,
        "id": "https://b.example/notes/1",
        "type": "Note",
        "makeOf": "https://a.example/users/lamp/versions/1",
        "madeBy": "https://b.example/users/fablab",
        "forSale": True,
        "makeSettings": "PETG",
        "location": {"type": "Place", "name": "Leipzig"},
    }
    (node,) = expand(make)
    assert node[OURDESIGN_NS + "makeOf"] == [{"@id": "https://a.example/users/lamp/versions/1"}]
    assert node[OURDESIGN_NS + "madeBy"] == [{"@id": "https://b.example/users/fablab"}]
    assert node[OURDESIGN_NS + "forSale"] == [{"@value": True}]
    assert node[OURDESIGN_NS + "makeSettings"] == [{"@value": "PETG"}]
    assert node[AS + "location"][0]["@type"] == [AS + "Place"]
    space = {"town": "Ghent", "processes": [{"process": "sewing"}]}
    actor = {"@context": ACTOR_CONTEXT, "id": "https://b.example/users/fablab", "makerSpace": space}
    (node,) = expand(actor)
    assert node[OURDESIGN_NS + "makerSpace"] == [{"@type": "@json", "@value": space}]
    assert no_network == []
