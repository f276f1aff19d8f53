"""Each local actor's Ed25519 key for object integrity proofs (FEP-8b32, FEP-521a).

Made the first time the actor signs or shows its key, and kept: an object signed years ago
still verifies against the key its actor document has published since. Two processes
making the key at once both store with `WHERE proof_key_pem IS NULL`, then read back the
one that won, so an actor never has two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation import proofs


def proof_key_id(actor: Actor) -> str:
    """The `verificationMethod` of the actor's proofs: its Multikey's id."""
    return f"{actor.uri}#ed25519-key"


async def proof_key(session: AsyncSession, actor: Actor) -> Ed25519PrivateKey:
    """The local actor's signing key, made and stored (in the caller's transaction) if new."""
    if actor.proof_key_pem is None:
        made = Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        await session.execute(
            update(Actor)
            .where(Actor.id == actor.id, Actor.proof_key_pem.is_(None))
            .values(proof_key_pem=made.decode("ascii"))
            .execution_options(synchronize_session=False)
        )
        stored = await session.scalar(select(Actor.proof_key_pem).where(Actor.id == actor.id))
        assert stored is not None
        actor.proof_key_pem = stored
    return proofs.private_key_of(actor.proof_key_pem)


def with_assertion_method(
    doc: Mapping[str, Any], actor: Actor, public: Ed25519PublicKey
) -> dict[str, Any]:
    """The actor document with its proof key published as a Multikey (FEP-521a)."""
    multikey = proofs.multikey_document(proof_key_id(actor), actor.uri, public)
    return {**doc, "assertionMethod": [multikey]}


async def signed_by(session: AsyncSession, actor: Actor, doc: Mapping[str, Any]) -> dict[str, Any]:
    """`doc` with a DataIntegrityProof by the local `actor` (the caller commits a new key)."""
    return proofs.sign(doc, await proof_key(session, actor), proof_key_id(actor))


async def signed_actor_document(
    session: AsyncSession, actor: Actor, doc: Mapping[str, Any]
) -> dict[str, Any]:
    """A local actor's document, publishing its proof key and signed with it."""
    key = await proof_key(session, actor)
    published = with_assertion_method(doc, actor, key.public_key())
    return proofs.sign(published, key, proof_key_id(actor))


def published_keys(actor: Actor) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys a remote actor's stored document lists under `assertionMethod`,
    by id; those not controlled by the actor itself are left out."""
    listed = (actor.document or {}).get("assertionMethod")
    items = listed if isinstance(listed, list) else [listed]
    keys: dict[str, Ed25519PublicKey] = {}
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "Multikey":
            continue
        key_id, controller = item.get("id"), item.get("controller")
        value = item.get("publicKeyMultibase")
        if isinstance(key_id, str) and controller == actor.uri and isinstance(value, str):
            try:
                keys[key_id] = proofs.public_key_of(value)
            except proofs.ProofError:
                continue
    return keys
