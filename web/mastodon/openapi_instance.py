"""The OpenAPI fragment of Mastodon's instance entities (`web.mastodon.instance`): the
instance, its rules and its cooperative, as `/api/v1/instance` and `/api/v2/instance`
answer them."""

from __future__ import annotations

from web.openapi_schema import (
    BOOL,
    INT,
    STR,
    STRINGS,
    URI,
    Fragment,
    Schema,
    _list,
    _obj,
    _ok,
    _ref,
    _slashed,
)

SCHEMAS: dict[str, Schema] = {
    "Rule": _obj(["id", "text", "hint"], id=STR, text=STR, hint=STR),
    "InstanceV1": {
        "description": "Mastodon's V1::Instance (the parts that apply here)",
        **_obj(
            [
                "uri",
                "title",
                "short_description",
                "description",
                "email",
                "version",
                "urls",
                "stats",
                "thumbnail",
                "languages",
                "registrations",
                "approval_required",
                "invites_enabled",
                "configuration",
                "contact_account",
                "rules",
            ],
            uri={"type": "string", "description": "the domain"},
            title=STR,
            short_description=STR,
            description=STR,
            email=STR,
            version=STR,
            urls=_obj(["streaming_api"], streaming_api=URI),
            stats=_obj(
                ["user_count", "status_count", "domain_count"],
                user_count=INT,
                status_count=INT,
                domain_count=INT,
            ),
            thumbnail=URI,
            languages=STRINGS,
            registrations=BOOL,
            approval_required=BOOL,
            invites_enabled=BOOL,
            configuration={"type": "object"},
            contact_account={
                "type": ["object", "null"],
                "description": "the cooperative's account (Mastodon's Account)",
            },
            rules=_list("Rule"),
        ),
    },
    "InstanceV2": {
        "description": "Mastodon's Instance, with the cooperative's facts under ourdesign",
        **_obj(
            [
                "domain",
                "title",
                "version",
                "source_url",
                "description",
                "usage",
                "thumbnail",
                "languages",
                "configuration",
                "registrations",
                "contact",
                "rules",
                "ourdesign",
            ],
            domain=STR,
            title=STR,
            version=STR,
            source_url=STR,
            description=STR,
            usage=_obj(["users"], users=_obj(["active_month"], active_month=INT)),
            thumbnail=_obj(["url"], url=URI),
            languages=STRINGS,
            configuration={"type": "object"},
            registrations=_obj(
                ["enabled", "approval_required", "message", "url"],
                enabled=BOOL,
                approval_required=BOOL,
                message=STR,
                url={"type": "null"},
            ),
            contact=_obj(
                ["email", "account"],
                email=STR,
                account={"type": ["object", "null"], "description": "the cooperative's account"},
            ),
            rules=_list("Rule"),
            ourdesign={
                "type": "object",
                "description": "the NodeInfo metadata: organization, rules, registrations, "
                "defaultLicense (docs/COOPERATIVE.md)",
            },
        ),
    },
}

_INSTANCE_V1 = {
    "get": {
        "summary": "The instance, as Mastodon's V1::Instance",
        "responses": {"200": _ok("the instance", _ref("InstanceV1"))},
    }
}
_INSTANCE_V2 = {
    "get": {
        "summary": "The instance and its cooperative, as Mastodon's Instance",
        "responses": {"200": _ok("the instance", _ref("InstanceV2"))},
    }
}

PATHS: dict[str, Schema] = {
    **_slashed("/api/v1/instance", _INSTANCE_V1),
    **_slashed("/api/v2/instance", _INSTANCE_V2),
}

FRAGMENT = Fragment(PATHS, SCHEMAS)
