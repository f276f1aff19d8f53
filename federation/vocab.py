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
ACTOR_CONTEXT: list[object] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "od": OURDESIGN_NS,
        "entityKind": "od:entityKind",
    },
]


def is_public(addresses: list[str]) -> bool:
    return any(a in PUBLIC_ALIASES for a in addresses)
