"""Checking the object integrity proofs (FEP-8b32) on what reaches us.

A proof's `verificationMethod` names a key; the key counts only if the actor it belongs to
(the id before `#`) lists it under `assertionMethod`, with itself as `controller`. A key we
do not know yet is looked up by fetching that actor again once (its key may be new).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urldefrag

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from actors.models import Actor
from actors.proof_keys import proof_key_id, published_keys
from actors.resolve import ActorResolver
from federation import proofs
from federation.errors import FederationError
from federation.proofs import ProofError

MAX_PROOFS = 4


async def verified_controllers(resolver: ActorResolver, document: Mapping[str, Any]) -> set[str]:
    """The actors whose proofs on `document` hold (empty when it has none); ProofError if any
    proof does not hold or its key cannot be found."""
    found = proofs.proofs_of(document)
    if len(found) > MAX_PROOFS:
        raise ProofError(f"an object may carry at most {MAX_PROOFS} proofs")
    controllers = set()
    for proof in found:
        key, controller = await _key_of(resolver, proof.verification_method)
        proofs.check(document, proof, key)
        controllers.add(controller)
    return controllers


async def _key_of(resolver: ActorResolver, key_id: str) -> tuple[Ed25519PublicKey, str]:
    owner = urldefrag(key_id).url
    try:
        actor = await resolver.get_actor(owner)
        key = _published(actor, key_id)
        if key is None and not actor.local:
            actor = await resolver.get_actor(owner, refresh=True)
            key = _published(actor, key_id)
    except FederationError as exc:
        raise ProofError(f"the key {key_id[:200]} of a proof cannot be had: {exc.message}") from exc
    if key is None:
        raise ProofError(
            f"{owner[:200]} does not publish the key {key_id[:200]} in its assertionMethod, "
            "so its proof authenticates nothing"
        )
    return key, actor.uri


def _published(actor: Actor, key_id: str) -> Ed25519PublicKey | None:
    if actor.local:
        if actor.proof_key_pem is None or key_id != proof_key_id(actor):
            return None
        return proofs.private_key_of(actor.proof_key_pem).public_key()
    return published_keys(actor).get(key_id)
