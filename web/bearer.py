"""Who a bearer token signs in, checked against the scope its route declares (web.scopes).

Every token is resolved here, and only here, so no route can forget the scope check."""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request

from actors.models import Actor, ApiToken
from actors.oauth import OUTSIDE_SCOPES, may_write, token_allows
from actors.service import has_role, token_person, token_row
from federation.errors import FederationError
from web.sign_in_cache import SignIn

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# What a missing or unknown token is told: our own API's words, and Mastodon's.
NEEDS_TOKEN = (
    "this needs 'Authorization: Bearer <token>'; create a token with 'ourdesign token create NAME'"
)


BAD_TOKEN = "the bearer token is not valid; create one with 'ourdesign token create NAME'"


INVALID_TOKEN = "The access token is invalid"


def optional_bearer_token(connection: HTTPConnection) -> str | None:
    """The token of an 'Authorization: Bearer <token>' header, if one came."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# Where a `web.scopes.ScopedRoute` puts, in the ASGI scope, what it declares: the OAuth scopes
# of which a token must hold one (() for any live token), or None for a route that takes none.
ROUTE_SCOPE = "ourdesign.route_scope"


# Where the tokens a request's handlers resolved are kept, so that each is looked up once.
SIGN_INS = "ourdesign.sign_ins"


def route_scope(connection: HTTPConnection) -> tuple[str, ...]:
    """The scopes the matched route declares; a route that declares none, or declares itself
    public, resolves no token at all (a programming error, not the client's)."""
    if ROUTE_SCOPE not in connection.scope:
        raise RuntimeError(f"{connection.url.path} declares no OAuth scope: use web.scopes")
    needs: tuple[str, ...] | None = connection.scope[ROUTE_SCOPE]
    if needs is None:
        raise RuntimeError(f"{connection.url.path} is declared public but asks for a token")
    return needs


def within_route_scope(connection: HTTPConnection, row: ApiToken) -> None:
    """403, as Mastodon words it, unless the token holds one of the route's scopes."""
    needs = route_scope(connection)
    if needs and not any(token_allows(row, scope) for scope in needs):
        raise FederationError(OUTSIDE_SCOPES, status=403)


async def bearer_sign_in(connection: HTTPConnection, token: str | None = None) -> SignIn | None:
    """The request's token (`token`, else its 'Authorization: Bearer') and whom it acts for,
    checked against the matched route's declared scope: the one place every token is
    resolved. None without a token; 401 for a token we do not know; 403 when its scopes
    do not cover the route's. Resolved once per request; a read may be answered from the
    instance's `SignInCache`."""
    token = token or optional_bearer_token(connection)
    if token is None:
        return None
    route_scope(connection)  # before any lookup: a public route never resolves a token
    resolved: dict[str, SignIn] = connection.scope.setdefault(SIGN_INS, {})
    if token not in resolved:
        resolved[token] = await _look_up(connection, token)
    within_route_scope(connection, resolved[token].token)
    return resolved[token]


async def _look_up(connection: HTTPConnection, token: str) -> SignIn:
    instance = connection.app.state.instance
    reading = connection.scope.get("method", "GET") in READ_METHODS
    if reading and (known := instance.sign_ins.get(token)) is not None:
        instance.token_uses.note(known.token.id)
        return known  # type: ignore[no-any-return]
    generation = instance.sign_ins.kept.changes.generation
    async with instance.sessions() as session:
        row = await token_row(session, token)
        if row is None:
            raise FederationError(INVALID_TOKEN, status=401)
        actor, _ = await token_person(session, row)
    instance.token_uses.note(row.id)  # even when the request is refused
    if reading and actor is not None:
        instance.sign_ins.keep(token, generation, actor, row)
    return SignIn(actor, row)


async def signed_in_actor(connection: HTTPConnection, role: str | None = None) -> Actor:
    """The local person whose token came with the request (`bearer_sign_in`), checked in
    this order: 401 without a token, or unless it acts for a person who is not deleted;
    403 if they are suspended, if the method changes something and the token may not
    write, or (with `role`) unless their role is that or higher."""
    sign_in = await bearer_sign_in(connection)
    if sign_in is None:
        raise FederationError(NEEDS_TOKEN, status=401)
    actor = sign_in.actor
    if actor is None or actor.deleted_at is not None:
        raise FederationError(BAD_TOKEN, status=401)
    if actor.suspended_at is not None:
        raise FederationError(
            "this account is suspended; ask the instance's moderators why", status=403
        )
    if connection.scope.get("method", "GET") not in READ_METHODS and not may_write(sign_in.token):
        raise FederationError(OUTSIDE_SCOPES, status=403)
    if role is not None:
        async with connection.app.state.instance.sessions() as session:
            if not await has_role(session, actor, role):
                raise FederationError(f"this needs the {role} role; ask an admin", status=403)
    return actor


async def token_actor(request: Request) -> Actor:
    """The local person whose bearer token came with the request (401 otherwise), within
    the route's declared scope."""
    return await signed_in_actor(request)


async def viewer_actor(request: Request) -> Actor | None:
    """`token_actor` when the request carries a token; None (anonymous) when it does not."""
    if optional_bearer_token(request) is None:
        return None
    return await signed_in_actor(request)


async def staff_actor(request: Request, role: str = "moderator") -> Actor:
    """The token's person if their role is `role` or higher (admin > moderator > member)."""
    return await signed_in_actor(request, role=role)
