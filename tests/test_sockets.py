"""Two instances as real uvicorn servers on loopback ports, federating over sockets."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from actors.models import FOLLOW_ACCEPTED, Follow
from objects.models import Note
from tests.live import live_server, wait_for


async def test_follow_and_post_over_real_sockets(new_database, tmp_path):
    async with (
        live_server(await new_database(), tmp_path / "a") as a,
        live_server(await new_database(), tmp_path / "b") as b,
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

        await wait_for(accepted)
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

        await wait_for(arrived)
