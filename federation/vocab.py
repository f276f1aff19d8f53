"""ActivityStreams vocabulary and media types."""

from __future__ import annotations

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
# Object integrity proofs (FEP-8b32) and the Multikey that verifies them (FEP-521a).
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

ACTIVITY_JSON = "application/activity+json"
LD_JSON_PROFILE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTIVITY_MEDIA_TYPES = ("application/activity+json", "application/ld+json")
JRD_JSON = "application/jrd+json"

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})

# Our extension terms; documented in docs/FEDERATION.md.
OURDESIGN_NS = "https://ourdesign.coop/ns#"
ACTOR_TERMS: dict[str, object] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "od": OURDESIGN_NS,
    "entityKind": "od:entityKind",
    # Mastodon's pinned posts collection, in Mastodon's own namespace.
    "toot": "http://joinmastodon.org/ns#",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    # As the DID context defines it (which Fedify and others use); not bundled, so inline.
    "assertionMethod": {
        "@id": "https://w3id.org/security#assertionMethod",
        "@type": "@id",
        "@container": "@set",
    },
    # What a maker space can make (actors.maker_space); docs/FEDERATION.md.
    "makerSpace": {"@id": "od:makerSpace", "@type": "@json"},
}
KEY_CONTEXTS = [SECURITY_CONTEXT, MULTIKEY_CONTEXT, DATA_INTEGRITY_CONTEXT]
ACTOR_CONTEXT: list[object] = [AS_CONTEXT, *KEY_CONTEXTS, ACTOR_TERMS]


# Designs: schema.org `license`, ForgeFed `forks`/`forkedFrom`, our own terms for the rest.
DESIGN_TERMS: dict[str, object] = {
    "od": OURDESIGN_NS,
    "schema": "http://schema.org/",
    "forgefed": "https://forgefed.org/ns#",
    "license": {"@id": "schema:license", "@type": "@id"},
    "forkedFrom": {"@id": "forgefed:forkedFrom", "@type": "@id"},
    "forks": {"@id": "forgefed:forks", "@type": "@id"},
    "versionLabel": "od:versionLabel",
    "licenseExpression": {"@id": "od:licenseExpression", "@type": "@json"},
    "credits": {"@id": "od:credits", "@type": "@id", "@container": "@list"},
    "designSummary": "od:designSummary",
    "changelog": "od:changelog",
    "files": {"@id": "od:files", "@container": "@list"},
    "isPreview": "od:isPreview",
    "sha256": "od:sha256",
    "size": "od:size",
    "cid": "od:cid",
    # Exactly as the data integrity context (protected) defines it, which documents with
    # proofs include: a different definition is a JSON-LD error there.
    "digestMultibase": {
        "@id": "https://w3id.org/security#digestMultibase",
        "@type": "https://w3id.org/security#multibase",
    },
    "designProject": "od:designProject",
    "entityKind": "od:entityKind",
    "makeNeeds": {"@id": "od:makeNeeds", "@type": "@json"},
    # Hash-linked history (objects/history.py).
    "previousVersion": {"@id": "od:previousVersion", "@type": "@id"},
    "previousVersionDigest": "od:previousVersionDigest",
    "forkedFromDigest": "od:forkedFromDigest",
}
DESIGN_CONTEXT: list[object] = [AS_CONTEXT, DATA_INTEGRITY_CONTEXT, DESIGN_TERMS]
# Makes: a Note (so that Mastodon shows it as a post) with these terms; AS `location` is a
# Place with a name only (a town or a maker space, never coordinates).
MAKE_TERMS: dict[str, object] = {
    "od": OURDESIGN_NS,
    "makeOf": {"@id": "od:makeOf", "@type": "@id"},
    "madeBy": {"@id": "od:madeBy", "@type": "@id"},
    "forSale": "od:forSale",
    "makeSettings": "od:makeSettings",
}
MAKE_CONTEXT: list[object] = [AS_CONTEXT, MAKE_TERMS]
PROJECT_CONTEXT: list[object] = [AS_CONTEXT, *KEY_CONTEXTS, {**ACTOR_TERMS, **DESIGN_TERMS}]


def is_public(addresses: list[str]) -> bool:
    return any(a in PUBLIC_ALIASES for a in addresses)
