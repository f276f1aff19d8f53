"""Two instances as real uvicorn servers on loopback ports, federating over sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import httpx
import uvicorn
from sqlalchemy import select

from actors.models import FOLLOW_ACCEPTED, Follow
from federation.settings import Settings
from objects.models import Note
from tests.support import Node
from web.app import create_app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def _server(database_url, data_dir):
    port = _free_port()
    settings = Settings(
        domain=f"127.0.0.1:{port}",
        scheme="http",
        data_dir=data_dir,
        database_url=database_url,
        allow_private_addresses=True,  # development setting: federate on loopback
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # uvicorn offers no event to wait on
            await asyncio.sleep(0.02)
    try:
        yield Node(settings.domain, app, network=None)
    finally:
        server.should_exit = True
        await task


async def _wait_for(check):
    """Poll until the other server's worker has done its part (15 s at most)."""
    async with asyncio.timeout(15):
        while not await check():
            await asyncio.sleep(0.05)


async def test_follow_and_post_over_real_sockets(new_database, tmp_path):
    async with (
        _server(await new_database(), tmp_path / "a") as a,
        _server(await new_database(), tmp_path / "b") as b,
    ):
        alice, alice_token = await a.user("alice")
        _, bob_token = await b.user("bob")
        async with httpx.AsyncClient(base_url=f"http://{a.domain}") as client:
            response = await client.post(
                "/users/alice/outbox",
                json={"type": "Follow", "object": f"@bob@{b.domain}"},
                headers={"Authorization": f"Bearer {alice_token}"},
            )
        assert response.status_code == 201, response.text

        async def accepted():
            async with a.instance.sessions() as session:
                follow = await session.scalar(select(Follow).where(Follow.follower_id == alice.id))
                return follow is not None and follow.state == FOLLOW_ACCEPTED

        await _wait_for(accepted)
        async with httpx.AsyncClient(base_url=f"http://{b.domain}") as client:
            response = await client.post(
                "/users/bob/outbox",
                json={"type": "Note", "content": "over a real socket"},
                headers={"Authorization": f"Bearer {bob_token}"},
            )
        note_uri = response.json()["object"]["id"]

        async def arrived():
            async with a.instance.sessions() as session:
                return await session.scalar(select(Note).where(Note.uri == note_uri)) is not None

        await _wait_for(arrived)
