"""A Web Push service on loopback, for tests: a real uvicorn server that takes pushes,
decrypts each with the subscription's private keys (RFC 8291) and checks its VAPID
signature (RFC 8292), as a browser's push service and the browser would."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import http_ece
import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.live import free_port


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """Pushes received, and the statuses to answer the next ones with (then 201)."""

    base_url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    # The subscriber's keys, made here as a browser makes them.
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/push/device-1"

    def keys(self) -> dict[str, str]:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url(point), "auth": b64url(self.auth)}

    def decrypt(self, push: Received) -> dict[str, Any]:
        assert push.headers["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(
            push.body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        found: dict[str, Any] = json.loads(plain)
        return found

    def check_vapid(self, push: Received, server_key: str) -> dict[str, Any]:
        """The JWT's claims, once its signature is checked against `server_key` (and the
        key the header names is that one)."""
        scheme, _, params = push.headers["authorization"].partition(" ")
        assert scheme == "vapid"
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        assert parts["k"] == server_key
        header, claims, signature = parts["t"].split(".")
        raw = unb64url(signature)
        assert len(raw) == 64  # ES256: r and s, 32 bytes each
        der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(server_key))
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        assert json.loads(unb64url(header))["alg"] == "ES256"
        found: dict[str, Any] = json.loads(unb64url(claims))
        assert found["aud"] == self.base_url and found["exp"] > time.time()
        return found

    async def take(self, request: Request) -> Response:
        self.received.append(Received(dict(request.headers), await request.body()))
        status = self.answers.pop(0) if self.answers else 201
        return Response(status_code=status, headers={"Retry-After": "0"})


@contextlib.asynccontextmanager
async def push_service() -> AsyncIterator[PushService]:
    port = free_port()
    service = PushService(f"http://127.0.0.1:{port}")
    app = Starlette(routes=[Route("/push/{device}", service.take, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.02)
    try:
        yield service
    finally:
        server.should_exit = True
        await task
