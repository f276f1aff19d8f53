"""Object integrity proofs: FEP-8b32, the `eddsa-jcs-2022` cryptosuite.

A proof makes a document speak for its author wherever it travels: through an Announce,
a mirror or an archive, long after the HTTP answer that first carried it. We sign with an
Ed25519 key, published in the actor document as a `Multikey` under `assertionMethod`
(FEP-521a), over the JCS (RFC 8785) canonical form:

    signature = Ed25519(sha256(JCS(proof options)) || sha256(JCS(document without proof)))

where the proof options are the proof without `proofValue`, with the document's
`@context`. `proofValue` is the signature in multibase base58btc (`z…`). This is what
Fedify and the W3C Data Integrity EdDSA specification do; tests/test_proofs.py checks
both directions against Fedify.

Pure functions over dicts and keys; finding the key of a `verificationMethod` is the
caller's business.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from multiformats import multicodec

from federation.errors import ValidationError
from federation.vocab import DATA_INTEGRITY_CONTEXT

CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"
ASSERTION = "assertionMethod"
_ED25519_PUB = "ed25519-pub"


class ProofError(ValidationError):
    """A proof that does not hold: the object is refused, not stored."""

    status = 401


def canonical(document: Any) -> bytes:
    """The JCS (RFC 8785) canonical form: the bytes that are hashed and signed."""
    return rfc8785.dumps(document)


def canonical_digest(document: Any) -> bytes:
    return hashlib.sha256(canonical(document)).digest()


# multibase base58btc, the only base these two specifications allow. The `base58` package,
# not `multiformats.multibase`, whose generic encoder takes milliseconds for 64 bytes.
def _base58btc(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode("ascii")


def _from_base58btc(text: str) -> bytes:
    if not text.startswith("z"):
        raise ValueError("not multibase base58btc")
    return base58.b58decode(text[1:])


def multikey(public_key: Ed25519PublicKey) -> str:
    """`publicKeyMultibase` of a Multikey: base58btc over 0xed01 and the 32 key bytes."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _base58btc(multicodec.wrap(_ED25519_PUB, raw))


def public_key_of(multibase_key: str) -> Ed25519PublicKey:
    """The Ed25519 key a `publicKeyMultibase` holds; ProofError for anything else."""
    try:
        codec, raw = multicodec.unwrap(_from_base58btc(multibase_key))
    except (ValueError, KeyError) as exc:
        raise ProofError(f"{multibase_key[:60]!r} is not a multibase-encoded key") from exc
    if codec.name != _ED25519_PUB or len(raw) != 32:
        raise ProofError(f"the key {multibase_key[:60]!r} is not an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(bytes(raw))


def private_key_of(pem: str) -> Ed25519PrivateKey:
    """A stored (PKCS#8 PEM) Ed25519 private key."""
    key = load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the stored proof key is not an Ed25519 key")
    return key


def multikey_document(key_id: str, controller: str, public_key: Ed25519PublicKey) -> dict[str, str]:
    """The `Multikey` an actor lists in `assertionMethod` (FEP-521a)."""
    return {
        "id": key_id,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": multikey(public_key),
    }


def with_contexts(document: Mapping[str, Any], *urls: str) -> dict[str, Any]:
    """`document` with `urls` added to its `@context` (kept before any inline term map)."""
    context = document.get("@context")
    listed = [] if context is None else list(context) if isinstance(context, list) else [context]
    missing = [url for url in urls if url not in listed]
    if not missing:
        return dict(document)
    strings = [item for item in listed if isinstance(item, str)]
    others = [item for item in listed if not isinstance(item, str)]
    return {**document, "@context": [*strings, *missing, *others]}


def _proof_options(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in document:
        options["@context"] = document["@context"]
    else:
        options.pop("@context", None)
    return options


def _signed_bytes(document: Mapping[str, Any], proof: Mapping[str, Any]) -> bytes:
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    return canonical_digest(_proof_options(document, proof)) + canonical_digest(unsigned)


def timestamp(when: dt.datetime) -> str:
    """`created` in the one form every verifier re-serialises alike: whole seconds, `Z`."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    key_id: str,
    *,
    created: dt.datetime | None = None,
) -> dict[str, Any]:
    """`document` with a `DataIntegrityProof` by `key_id` (any earlier proof is replaced);
    the data integrity context is added first, as the proof's terms need it."""
    document = (
        with_contexts(document, DATA_INTEGRITY_CONTEXT) if "@context" in document else {**document}
    )
    document.pop("proof", None)
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": key_id,
        "proofPurpose": ASSERTION,
        "created": timestamp(created or dt.datetime.now(dt.UTC)),
    }
    signature = private_key.sign(_signed_bytes(document, proof))
    proof["proofValue"] = _base58btc(signature)
    return {**document, "proof": proof}


@dataclass(frozen=True)
class Proof:
    """A proof as received, checked for shape."""

    verification_method: str
    created: str
    fields: Mapping[str, Any]
    signature: bytes


def proofs_of(document: Mapping[str, Any]) -> list[Proof]:
    """The document's proofs; ProofError for one that is malformed or of another suite."""
    given = document.get("proof")
    if given is None:
        return []
    items = given if isinstance(given, list) else [given]
    return [_parsed(item) for item in items]


def _parsed(item: Any) -> Proof:
    if not isinstance(item, dict) or item.get("type") != PROOF_TYPE:
        raise ProofError("a proof must be a DataIntegrityProof object")
    if item.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(
            f"the cryptosuite {str(item.get('cryptosuite'))[:40]!r} is not supported; "
            f"sign with {CRYPTOSUITE}"
        )
    if item.get("proofPurpose") != ASSERTION:
        raise ProofError("a proof's proofPurpose must be assertionMethod")
    method, created, value = (item.get(k) for k in ("verificationMethod", "created", "proofValue"))
    if not (isinstance(method, str) and isinstance(created, str) and isinstance(value, str)):
        raise ProofError("a proof needs verificationMethod, created and proofValue strings")
    try:
        signature = _from_base58btc(value)
    except ValueError as exc:
        raise ProofError("a proof's proofValue is not multibase base58btc (z…)") from exc
    return Proof(method, created, item, signature)


def holds(document: Mapping[str, Any], proof: Proof, public_key: Ed25519PublicKey) -> bool:
    """True when `proof` is `public_key`'s signature over `document` (its proof aside)."""
    try:
        public_key.verify(proof.signature, _signed_bytes(document, proof.fields))
    except InvalidSignature:
        return False
    return True


def check(document: Mapping[str, Any], proof: Proof, public_key: Ed25519PublicKey) -> None:
    """Raise ProofError unless `proof` holds for `document`."""
    if not holds(document, proof, public_key):
        what = document.get("id") or "the object"
        raise ProofError(
            f"the integrity proof of {str(what)[:200]} by {proof.verification_method[:200]} "
            "does not hold: the object was changed after it was signed, or signed with "
            "another key; fetch it from its origin"
        )
