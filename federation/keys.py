"""RSA key pairs for actors, as PEM text."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from federation.errors import ValidationError


def generate_rsa_pem(bits: int = 2048) -> tuple[str, str]:
    """Return (private PEM, public PEM) of a new RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode(), public.decode()


def load_private_pem(pem: str) -> PrivateKeyTypes:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def load_public_pem(pem: str) -> PublicKeyTypes:
    try:
        return serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"publicKeyPem is not a valid PEM public key: {exc}") from exc


def load_rsa_private_pem(pem: str) -> rsa.RSAPrivateKey:
    key = load_private_pem(pem)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValidationError("expected an RSA private key")
    return key
