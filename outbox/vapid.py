"""The instance's VAPID key pair (RFC 8292): made at its first start, kept in the database
so that every process (`serve`, `worker`) signs with the same key."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.db import utcnow
from objects.push_models import VapidKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _new_key() -> VapidKey:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return VapidKey(
        private_pem=pem.decode("ascii"),
        public_key=b64url(public_point(private.public_key())),
        created_at=utcnow(),
    )


async def _stored(session: AsyncSession) -> VapidKey | None:
    return await session.scalar(select(VapidKey).order_by(VapidKey.id).limit(1))


async def ensure_vapid_key(sessions: async_sessionmaker[AsyncSession]) -> VapidKey:
    """The stored key pair, made now if there is none; a process starting alongside may race
    us to it, and then the first one stored wins."""
    async with sessions() as session:
        key = await _stored(session)
        if key is not None:
            return key
        key = _new_key()
        session.add(key)
        try:
            await session.commit()
            return key
        except IntegrityError:
            await session.rollback()
    async with sessions() as session:
        stored = await _stored(session)
        assert stored is not None
        return stored
