"""ActivityStreams vocabulary and media types."""

from __future__ import annotations

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
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
    # What a maker space can make (actors.maker_space); docs/FEDERATION.md.
    "makerSpace": {"@id": "od:makerSpace", "@type": "@json"},
}
ACTOR_CONTEXT: list[object] = [AS_CONTEXT, SECURITY_CONTEXT, ACTOR_TERMS]


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
    "files": {"@id": "od:files", "@container": "@list"},
    "isPreview": "od:isPreview",
    "sha256": "od:sha256",
    "size": "od:size",
    "cid": "od:cid",
    "digestMultibase": "https://w3id.org/security#digestMultibase",
    "designProject": "od:designProject",
    "entityKind": "od:entityKind",
    "makeNeeds": {"@id": "od:makeNeeds", "@type": "@json"},
}
DESIGN_CONTEXT: list[object] = [AS_CONTEXT, DESIGN_TERMS]
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
PROJECT_CONTEXT: list[object] = [AS_CONTEXT, SECURITY_CONTEXT, {**ACTOR_TERMS, **DESIGN_TERMS}]


def is_public(addresses: list[str]) -> bool:
    return any(a in PUBLIC_ALIASES for a in addresses)
