"""OAuth apps, their scopes and the rows behind codes and tokens (Mastodon's rules)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import ApiToken, OAuthApp
from actors.service import secret_hash
from federation.errors import ValidationError

OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
DEFAULT_SCOPE = "read"
CODE_LIFETIME_SECONDS = 600

_RESOURCES = {
    "read": (
        "accounts blocks bookmarks favourites filters follows lists mutes notifications "
        "search statuses"
    ),
    "write": (
        "accounts blocks bookmarks conversations favourites filters follows lists media mutes "
        "notifications reports statuses"
    ),
}
_ADMIN_RESOURCES = (
    "accounts reports domain_allows domain_blocks ip_blocks email_domain_blocks "
    "canonical_email_blocks"
)
# Mastodon's legacy "follow" scope stands for these finer ones.
_FOLLOW_COVERS = frozenset(
    {"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"}
)


def _known_scopes() -> tuple[str, ...]:
    scopes = ["read", "write", "follow", "push", "profile", "admin:read", "admin:write"]
    for parent, resources in _RESOURCES.items():
        scopes += [f"{parent}:{resource}" for resource in resources.split()]
    for parent in ("admin:read", "admin:write"):
        scopes += [f"{parent}:{resource}" for resource in _ADMIN_RESOURCES.split()]
    return tuple(scopes)


KNOWN_SCOPES = _known_scopes()


OUTSIDE_SCOPES = "This action is outside the authorized scopes"


def scope_list(scopes: str) -> list[str]:
    """Scopes as Mastodon sends them: space-separated (a '+' in a query is a space too)."""
    return scopes.replace("+", " ").split()


def check_scopes(scopes: str) -> str:
    """The scopes, normalised, if every one is known (ValidationError otherwise)."""
    wanted = scope_list(scopes) or [DEFAULT_SCOPE]
    unknown = [scope for scope in wanted if scope not in KNOWN_SCOPES]
    if unknown:
        raise ValidationError(f"unknown scopes: {' '.join(unknown)[:200]}")
    return " ".join(dict.fromkeys(wanted))


def scope_covers(granted: Iterable[str], wanted: str) -> bool:
    """Whether a grant allows `wanted`: "read" covers "read:accounts", and so on."""
    granted = set(granted)
    if wanted in _FOLLOW_COVERS and "follow" in granted:
        return True
    parts = wanted.split(":")
    return any(":".join(parts[:end]) in granted for end in range(1, len(parts) + 1))


# `push` changes only the token's own Web Push subscription, and is all an app needs for it.
WRITE_SCOPES = ("write", "follow", "push", "admin:write")


def is_write_scope(scope: str) -> bool:
    return scope in WRITE_SCOPES or scope.startswith(("write:", "admin:write:"))


def may_write(token: ApiToken) -> bool:
    """Whether a token may change anything at all: every route that changes something needs
    at least one write (or the old follow) scope; routes declare their own scope too."""
    return any(map(is_write_scope, scope_list(token.scopes)))


def token_allows(token: ApiToken, scope: str) -> bool:
    """Whether a token's scopes cover `scope`: what its row names, nothing else (a token of
    no app, the CLI's, names every scope: `ALL_SCOPES`)."""
    return scope_covers(scope_list(token.scopes), scope)


def scopes_within(granted: str, wanted: str) -> bool:
    return all(scope_covers(scope_list(granted), scope) for scope in scope_list(wanted))


def check_redirect_uris(redirect_uris: list[str]) -> str:
    """The URIs one per line, if each is absolute http(s) or the out-of-band URN."""
    cleaned = [uri.strip() for uri in redirect_uris if uri.strip()]
    if not cleaned:
        raise ValidationError("redirect_uris is required")
    for uri in cleaned:
        if uri == OOB_REDIRECT_URI:
            continue
        parts = urlsplit(uri)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
            raise ValidationError(
                f"redirect URI {uri[:200]!r} must be an absolute http(s) URI without a "
                f"fragment, or {OOB_REDIRECT_URI}"
            )
    return "\n".join(dict.fromkeys(cleaned))


async def register_app(
    session: AsyncSession,
    *,
    name: str,
    redirect_uris: list[str],
    scopes: str,
    website: str | None,
) -> tuple[OAuthApp, str]:
    """A new app and its plaintext secret (only the hash is stored); the caller commits."""
    if not name.strip():
        raise ValidationError("client_name is required")
    secret = secrets.token_urlsafe(32)
    app = OAuthApp(
        client_id=secrets.token_urlsafe(32),
        client_secret_hash=secret_hash(secret),
        name=name.strip(),
        website=website or None,
        redirect_uris=check_redirect_uris(redirect_uris),
        scopes=check_scopes(scopes),
    )
    session.add(app)
    await session.flush()
    return app, secret
