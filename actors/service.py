"""Local actors: people, the instance actor, passwords and API tokens."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import ALL_SCOPES, ENTITY_KINDS, ROLES, Account, Actor, ApiToken
from federation.db import utcnow
from federation.errors import FederationError, ValidationError
from federation.keys import generate_rsa_pem
from federation.urls import LocalUrls

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$")
MIN_PASSWORD = 8
INSTANCE_ACTOR_USERNAME = "instance.actor"
# Hashes made before argon2: still accepted, and replaced on the next sign-in.
_SCRYPT_PREFIX = "scrypt$"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
# OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): about 0.1 s on a small machine, as
# the scrypt it replaces. argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes) took 0.4 s,
# and a cooperative's one cheap machine signs many people in. Holds only its parameters,
# no state: safe to share between instances in a process.
_ARGON2 = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


class ConflictError(FederationError):
    status = 409


def hash_password(password: str) -> str:
    """An argon2id hash with the parameters above (kept in the hash itself)."""
    return _ARGON2.hash(password)


def check_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`, an argon2 hash or an older `scrypt$` one."""
    if stored.startswith(_SCRYPT_PREFIX):
        return _check_scrypt(password, stored)
    try:
        return _ARGON2.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    """Whether a hash that just matched should be replaced by a fresh argon2id one: it is an
    old scrypt hash, or argon2's parameters have been raised since it was made."""
    if stored.startswith(_SCRYPT_PREFIX):
        return True
    try:
        return _ARGON2.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _check_scrypt(password: str, stored: str) -> bool:
    try:
        _, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"a password needs at least {MIN_PASSWORD} characters")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


def secret_hash(secret: str) -> str:
    """How tokens, codes and secrets are stored: the hex SHA-256 of the plaintext."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_local_actor(urls: LocalUrls, username: str, *, actor_type: str = "Person") -> Actor:
    private_pem, public_pem = generate_rsa_pem()
    uri = urls.actor(username)
    return Actor(
        uri=uri,
        type=actor_type,
        local=True,
        username=username,
        domain=urls.host,
        name=username,
        summary="",
        url=urls.profile(username),
        inbox=urls.inbox(username),
        shared_inbox=urls.shared_inbox,
        outbox=urls.outbox(username),
        followers_url=urls.followers(username),
        following_url=urls.following(username),
        public_key_id=urls.key_id(uri),
        public_key_pem=public_pem,
        private_key_pem=private_pem,
    )


async def create_person(session: AsyncSession, urls: LocalUrls, **person: Any) -> Actor:
    """Create a local person with an account; the caller commits.

    The account is approved and its address counts as confirmed: whoever calls this vouches
    for the person (an admin, or `actors.registration`, which then narrows both).
    """
    actor, _ = await create_person_account(session, urls, **person)
    return actor


async def create_person_account(
    session: AsyncSession,
    urls: LocalUrls,
    *,
    username: str,
    email: str,
    password: str,
    entity_kind: str = "individual",
    role: str = "member",
) -> tuple[Actor, Account]:
    """`create_person`, also returning the new account (for a caller that changes it)."""
    if not USERNAME_RE.match(username):
        raise ValidationError(
            "a user name is 1 to 30 characters of lower-case letters, digits and '_'"
        )
    if entity_kind not in ENTITY_KINDS:
        raise ValidationError(f"kind must be one of {', '.join(ENTITY_KINDS)}")
    check_role(role)
    if "@" not in email:
        raise ValidationError("an email address needs an '@'")
    check_new_password(password)
    if await get_local_actor(session, username) is not None:
        raise ConflictError(f"the user name {username!r} is taken")
    if await session.scalar(select(Account).where(Account.email == email)) is not None:
        raise ConflictError(f"an account with {email} exists already")
    actor = new_local_actor(urls, username)
    actor.entity_kind = entity_kind
    session.add(actor)
    await session.flush()
    account = Account(
        actor_id=actor.id,
        email=email,
        password_hash=await asyncio.to_thread(hash_password, password),  # 0.1 s: off the loop
        role=role,
        confirmed_at=utcnow(),
    )
    session.add(account)
    return actor, account


async def ensure_instance_actor(session: AsyncSession, urls: LocalUrls) -> Actor:
    """The actor that signs our fetches; created on first start."""
    existing = await session.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.username == INSTANCE_ACTOR_USERNAME)
    )
    if existing is not None:
        return existing
    actor = new_local_actor(urls, INSTANCE_ACTOR_USERNAME, actor_type="Application")
    actor.uri = urls.instance_actor
    actor.public_key_id = urls.key_id(actor.uri)
    actor.inbox = urls.shared_inbox
    actor.outbox = actor.followers_url = actor.following_url = None
    actor.manually_approves_followers = True
    actor.url = urls.base_url
    actor.entity_kind = "unknown"
    session.add(actor)
    await session.flush()
    return actor


async def get_local_actor(session: AsyncSession, username: str) -> Actor | None:
    return await session.scalar(
        select(Actor).where(
            Actor.local.is_(True), Actor.username == username, Actor.deleted_at.is_(None)
        )
    )


async def local_account(
    session: AsyncSession, *where: ColumnElement[bool]
) -> tuple[Actor, Account] | None:
    """The local, not deleted person matching `where`, with their account."""
    row = (
        await session.execute(
            select(Actor, Account)
            .join(Account, Account.actor_id == Actor.id)
            .where(Actor.local.is_(True), Actor.deleted_at.is_(None), *where)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def role_of(session: AsyncSession, actor: Actor) -> str:
    """A local person's role; remote actors and the instance actor count as members."""
    role = await session.scalar(select(Account.role).where(Account.actor_id == actor.id))
    return role or "member"


async def roles_of(session: AsyncSession, actors: Sequence[Actor]) -> dict[int, str]:
    """`role_of` for several actors in one query, by actor id."""
    rows = await session.execute(
        select(Account.actor_id, Account.role).where(
            Account.actor_id.in_({actor.id for actor in actors})
        )
    )
    found = {actor_id: role for actor_id, role in rows.all()}
    return {actor.id: found.get(actor.id) or "member" for actor in actors}


async def actors_by_id(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Actor]:
    """The actors with these ids (None and unknown ids are left out), in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {a.id: a for a in await session.scalars(select(Actor).where(Actor.id.in_(wanted)))}


async def has_role(session: AsyncSession, actor: Actor, role: str) -> bool:
    """Whether the actor's role is `role` or higher (admin > moderator > member)."""
    return ROLES.index(await role_of(session, actor)) >= ROLES.index(role)


async def create_token(
    session: AsyncSession, actor: Actor, name: str = "", *, scopes: str = ALL_SCOPES
) -> str:
    """Return a new bearer token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(actor_id=actor.id, name=name, token_hash=secret_hash(token), scopes=scopes)
    )
    await session.flush()
    return token


async def token_row(session: AsyncSession, token: str) -> ApiToken | None:
    """The live (unrevoked) row of a bearer token."""
    # The person comes in the same query, so `token_person` finds them in the session.
    found = await session.execute(
        select(ApiToken, Actor)
        .outerjoin(Actor, Actor.id == ApiToken.actor_id)
        .where(ApiToken.token_hash == secret_hash(token))
    )
    row = found.first()
    return row[0] if row is not None and row[0].revoked_at is None else None


async def token_person(
    session: AsyncSession, row: ApiToken | None
) -> tuple[Actor, ApiToken] | tuple[None, None]:
    """The person a live token row acts for, and the row (its use is noted by the caller,
    in batches: actors.token_use)."""
    # An app's own token (client credentials) acts for nobody; a revoked one for nobody either.
    if row is None or row.actor_id is None:
        return None, None
    actor = await session.get(Actor, row.actor_id)
    return (actor, row) if actor is not None else (None, None)
