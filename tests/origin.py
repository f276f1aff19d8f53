"""A sending instance for delivery tests: alice, with remote followers whose inboxes are a
sink's, posting through the real C2S outbox; and `ourdesign` worker processes on its
database, to be stopped or killed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from sqlalchemy import insert, select

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.service import create_person, create_token
from federation.settings import Settings
from outbox.models import Delivery
from tests.live import free_port
from tests.support import PASSWORD, bearer
from web.app import create_app
from web.instance import Instance

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Origin:
    settings: Settings
    instance: Instance
    client: httpx.AsyncClient
    token: str

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post("/users/alice/outbox", json=body)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def note(self, text: str) -> dict[str, Any]:
        return await self.post({"type": "Note", "content": text})

    async def deliveries(self) -> list[Delivery]:
        async with self.instance.sessions() as session:
            return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


def origin_settings(database_url: str, data_dir: Path, **changes: Any) -> Settings:
    return Settings(
        domain=f"127.0.0.1:{free_port()}",
        scheme="http",
        data_dir=data_dir,
        database_url=database_url,
        allow_private_addresses=True,  # the followers' inboxes are a sink on loopback
        log_level="warning",
        **({"delivery_per_host": 8} | changes),  # the sink is one host with many inboxes
    )


@contextlib.asynccontextmanager
async def running_origin(settings: Settings, inboxes: list[str]) -> AsyncIterator[Origin]:
    """The instance (workers not running: tests step them or start processes), with alice
    followed by one remote actor per inbox."""
    app = create_app(settings, run_workers=False)
    async with app.router.lifespan_context(app):
        instance: Instance = app.state.instance
        token = await _alice_and_followers(instance, inboxes)
        transport = httpx.ASGITransport(app=app)
        base = f"http://{settings.domain}"
        async with httpx.AsyncClient(
            transport=transport, base_url=base, headers=bearer(token)
        ) as client:
            yield Origin(settings, instance, client, token)


async def _alice_and_followers(instance: Instance, inboxes: list[str]) -> str:
    async with instance.sessions() as session:
        alice = await create_person(
            session, instance.urls, username="alice", email="alice@x.test", password=PASSWORD
        )
        token = await create_token(session, alice, "test")
        await session.commit()
    rows = [
        {
            "uri": f"{inbox}/actor",
            "type": "Person",
            "local": False,
            "username": f"f{n}",
            "domain": "127.0.0.1",
            "inbox": inbox,
            "public_key_id": f"{inbox}/actor#key",
            "public_key_pem": "(not used: followers only receive)",
        }
        for n, inbox in enumerate(inboxes)
    ]
    async with instance.engine.begin() as conn:
        await conn.execute(insert(Actor), rows)
        ids = (await conn.execute(select(Actor.id, Actor.uri).where(Actor.local.is_(False)))).all()
        follows = [
            {"uri": f"{uri}/follow", "follower_id": i, "followee_id": alice.id} for i, uri in ids
        ]
        await conn.execute(insert(Follow), [f | {"state": FOLLOW_ACCEPTED} for f in follows])
    return token


def process_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    """The environment of an `ourdesign` process on the origin's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OURDESIGN_")}
    return env | {
        "OURDESIGN_DATA_DIR": str(data_dir),
        "OURDESIGN_DOMAIN": settings.domain,
        "OURDESIGN_SCHEME": "http",
        "OURDESIGN_DATABASE_URL": settings.database_url,
        "OURDESIGN_ALLOW_PRIVATE_ADDRESSES": "true",
        "OURDESIGN_LOG_LEVEL": "warning",
        "OURDESIGN_QUEUE_LEASE_SECONDS": str(settings.queue_lease_seconds),
        "OURDESIGN_HTTP_TIMEOUT_SECONDS": str(settings.http_timeout_seconds),
        "OURDESIGN_DELIVERY_PER_HOST": str(settings.delivery_per_host),
        "OURDESIGN_DELIVERY_CONCURRENCY": str(settings.delivery_concurrency),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }


async def start_process(
    settings: Settings, data_dir: Path, *args: str
) -> asyncio.subprocess.Process:
    """`ourdesign ARGS` (worker, or serve) as a real process, its output in data_dir."""
    log = _log_file(data_dir, args[0])
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from web.main import main; main()",
            *args,
            env=process_env(settings, data_dir),
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
    finally:
        log.close()  # the process has its own copy


def _log_file(data_dir: Path, name: str) -> BinaryIO:
    data_dir.mkdir(parents=True, exist_ok=True)
    return (data_dir / f"{name}-{time.monotonic_ns()}.log").open("wb")


async def stop_process(process: asyncio.subprocess.Process, sig: signal.Signals) -> float:
    """Send `sig`; return the seconds until the process exited (killed after 30)."""
    began = time.monotonic()
    process.send_signal(sig)
    try:
        async with asyncio.timeout(30):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
    return time.monotonic() - began
