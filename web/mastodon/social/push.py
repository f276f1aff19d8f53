"""Mastodon's Web Push subscription: /api/v1/push/subscription (scope `push`).

One subscription per access token, as in Mastodon: POST makes it (replacing any), GET
shows it, PUT changes its alerts and policy, DELETE removes it. Apps send the fields as
a form (`subscription[keys][p256dh]`, `data[alerts][mention]`) or as JSON of the same
shape. The pushes themselves are queued with each notification (objects.push) and sent
by outbox.push_worker.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from actors.models import ApiToken
from federation.errors import FederationError, ValidationError
from objects.push import ALERTS, POLICIES, alert_names, subscribe, subscription_of
from objects.push_models import PushSubscription
from outbox.vapid import b64url_decode
from web.account_json import form_or_json
from web.bearer import bearer_sign_in, signed_in_actor
from web.instance import Instance, instance_of
from web.scopes import ScopedRoute

PUSH = "push"
TRUE = ("true", "1", "on", "yes")
NOT_FOUND = "Record not found"


def subscription_entity(subscription: PushSubscription, server_key: str) -> dict[str, Any]:
    """Mastodon's WebPushSubscription."""
    on = alert_names(subscription)
    return {
        "id": str(subscription.id),
        "endpoint": subscription.endpoint,
        "standard": True,
        "alerts": {name: name in on for name in ALERTS},
        "server_key": server_key,
        "policy": subscription.policy,
    }


def nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form pairs `a[b][c]=v` as {"a": {"b": {"c": v}}}."""
    fields: dict[str, Any] = {}
    for key, value in pairs:
        path = re.findall(r"[^\[\]]+", key)
        if not path:
            continue
        place = fields
        for part in path[:-1]:
            child = place.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValidationError(f"{key} mixes a value and fields")
            place = child
        place[path[-1]] = value
    return fields


def _part(fields: dict[str, Any], name: str) -> dict[str, Any]:
    value = fields.get(name) or {}
    if not isinstance(value, dict):
        raise ValidationError(f"{name} must be an object of fields")
    return value


def _alerts_and_policy(
    data: dict[str, Any], current: PushSubscription | None = None
) -> tuple[list[str], str]:
    """The alerts turned on and the policy; what the body leaves out stays as it was (all
    alerts off and policy `all` for a new subscription)."""
    on = alert_names(current) if current is not None else set()
    for name, value in _part(data, "alerts").items():
        if name not in ALERTS:
            continue  # Mastodon ignores alerts it does not know
        wanted = value if isinstance(value, bool) else str(value).strip().lower() in TRUE
        (on.add if wanted else on.discard)(name)
    policy = data.get("policy", current.policy if current is not None else "all")
    if policy not in POLICIES:
        raise ValidationError(f"data[policy] must be one of {', '.join(POLICIES)}")
    return sorted(on), str(policy)


def _data(fields: dict[str, Any]) -> dict[str, Any]:
    """`data[alerts][…]` and `data[policy]`; Mastodon.py sends `policy` outside `data`."""
    data = _part(fields, "data")
    if "policy" not in data and "policy" in fields:
        return data | {"policy": fields["policy"]}
    return data


def _key(keys: dict[str, Any], name: str, size: int) -> str:
    value = keys.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"subscription[keys][{name}] is required")
    value = value.strip().rstrip("=").replace("+", "-").replace("/", "_")
    try:
        raw = b64url_decode(value)
    except ValueError as exc:
        raise ValidationError(f"subscription[keys][{name}] is not base64url") from exc
    if len(raw) != size:
        raise ValidationError(f"subscription[keys][{name}] must be {size} bytes")
    return value


def _subscription_fields(fields: dict[str, Any]) -> tuple[str, str, str]:
    subscription = _part(fields, "subscription")
    endpoint = subscription.get("endpoint")
    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("http", "https"):
        raise ValidationError("subscription[endpoint] must be an absolute http(s) URL")
    if len(endpoint) > 2048 or not urlsplit(endpoint).hostname:
        raise ValidationError("subscription[endpoint] must be an http(s) URL of a host")
    keys = _part(subscription, "keys")
    p256dh, auth = _key(keys, "p256dh", 65), _key(keys, "auth", 16)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(p256dh))
    except ValueError as exc:
        raise ValidationError("subscription[keys][p256dh] is not a P-256 public key") from exc
    return endpoint, p256dh, auth


async def _signed_in(request: Request) -> tuple[Instance, ApiToken, int]:
    """The instance, the token (its subscription is the one concerned) and its person."""
    actor = await signed_in_actor(request)
    sign_in = await bearer_sign_in(request)  # resolved once per request: the same one
    assert sign_in is not None
    return instance_of(request), sign_in.token, actor.id


async def _body(request: Request, instance: Instance) -> dict[str, Any]:
    return await form_or_json(request, instance.settings.max_body_bytes, nested)


async def create(request: Request) -> Response:
    instance, token, actor_id = await _signed_in(request)
    fields = await _body(request, instance)
    endpoint, p256dh, auth = _subscription_fields(fields)
    alerts, policy = _alerts_and_policy(_data(fields))
    async with instance.sessions() as session:
        subscription = await subscribe(
            session,
            token_id=token.id,
            actor_id=actor_id,
            endpoint=endpoint,
            p256dh=p256dh,
            auth=auth,
            alerts=alerts,
            policy=policy,
        )
        await session.commit()
        return JSONResponse(subscription_entity(subscription, instance.vapid_public_key))


async def show(request: Request) -> Response:
    instance, token, _ = await _signed_in(request)
    async with instance.sessions() as session:
        subscription = await subscription_of(session, token.id)
    if subscription is None:
        raise FederationError(NOT_FOUND, status=404)
    return JSONResponse(subscription_entity(subscription, instance.vapid_public_key))


async def change(request: Request) -> Response:
    instance, token, _ = await _signed_in(request)
    fields = await _body(request, instance)
    async with instance.sessions() as session:
        subscription = await subscription_of(session, token.id)
        if subscription is None:
            raise FederationError(NOT_FOUND, status=404)
        alerts, policy = _alerts_and_policy(_data(fields), subscription)
        subscription.alerts, subscription.policy = " ".join(alerts), policy
        await session.commit()
        return JSONResponse(subscription_entity(subscription, instance.vapid_public_key))


async def remove(request: Request) -> Response:
    instance, token, _ = await _signed_in(request)
    async with instance.sessions() as session:
        subscription = await subscription_of(session, token.id)
        if subscription is not None:
            await session.delete(subscription)
            await session.commit()
    return JSONResponse({})


PATH = "/api/v1/push/subscription"
routes: list[BaseRoute] = [
    ScopedRoute(PATH, create, methods=["POST"], scope=PUSH),
    ScopedRoute(PATH, show, methods=["GET"], scope=PUSH),
    ScopedRoute(PATH, change, methods=["PUT"], scope=PUSH),
    ScopedRoute(PATH, remove, methods=["DELETE"], scope=PUSH),
]
