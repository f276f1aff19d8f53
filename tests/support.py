"""Several real instances in one process, connected through an in-memory network.

Every request between instances is a real signed HTTP request handled by the
other instance's real ASGI app; only the socket is replaced.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from actors.models import Account, Actor
from actors.service import create_person, create_token
from federation.settings import Settings
from web.app import create_app
from web.instance import Instance


class Network(httpx.AsyncBaseTransport):
    """Routes requests by host to in-process apps; a host can be taken down."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.down: set[str] = set()
        self.requests: list[httpx.Request] = []
        self.intercept: dict[str, Callable[[httpx.Request], httpx.Response | None]] = {}

    def add(self, host: str, app: Starlette) -> None:
        self.apps[host] = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.netloc.decode().lower()
        self.requests.append(request)
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"cannot connect to {host}", request=request)
        if host in self.intercept:
            answer = self.intercept[host](request)
            if answer is not None:
                return answer
        return await self.apps[host].handle_async_request(request)


@dataclass
class Node:
    """One running instance under test."""

    domain: str
    app: Starlette
    network: Network

    @property
    def instance(self) -> Instance:
        instance: Instance = self.app.state.instance
        return instance

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self.network, base_url=f"https://{self.domain}", **kwargs
        )

    async def user(
        self, username: str, kind: str = "individual", role: str = "member"
    ) -> tuple[Actor, str]:
        async with self.instance.sessions() as session:
            actor = await create_person(
                session,
                self.instance.urls,
                username=username,
                email=f"{username}@{self.domain}",
                password="correct horse",
                entity_kind=kind,
            )
            if role != "member":
                account = await session.get(Account, actor.id)
                assert account is not None
                account.role = role
            token = await create_token(session, actor, "test")
            await session.commit()
        return actor, token

    async def post_outbox(self, username: str, token: str, body: dict[str, Any]) -> httpx.Response:
        async with self.client() as client:
            return await client.post(
                f"/users/{username}/outbox",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )


async def settle(*nodes: Node, rounds: int = 50) -> None:
    """Run every node's inbox and delivery workers until all queues are idle."""
    for _ in range(rounds):
        work = 0
        for node in nodes:
            work += await node.instance.inbox_worker.run_once()
            work += await node.instance.delivery_worker.run_once()
        if work == 0:
            return
    raise AssertionError("queues did not settle")


@contextlib.asynccontextmanager
async def running_node(
    domain: str, database_url: str, data_dir: Any, network: Network, **changes: Any
) -> AsyncIterator[Node]:
    settings = Settings(
        domain=domain, scheme="https", data_dir=data_dir, database_url=database_url, **changes
    )
    app = create_app(settings, transport=network, run_workers=False)
    async with app.router.lifespan_context(app):
        network.add(domain, app)
        yield Node(domain, app, network)
