"""Several real instances in one process, connected through an in-memory network.

Every request between instances is a real signed HTTP request handled by the
other instance's real ASGI app; only the socket is replaced.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner
from sqlalchemy import func, select
from starlette.applications import Starlette

from actors.models import Account, Actor, OAuthApp
from actors.moderation_models import AuditEntry
from actors.service import create_person, create_token, token_row
from federation.settings import Settings
from federation.signatures import sign_cavage
from web.app import create_app
from web.instance import Instance
from web.main import main

PASSWORD = "correct horse"  # what `Node.user` gives everyone
ACTIVITY_JSON = "application/activity+json"


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
                password=PASSWORD,
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
                headers=bearer(token),
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


# --- the HTTP API ----------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(
    node: Node, method: str, path: str, token: str | None = None, **kw: Any
) -> httpx.Response:
    """One request to `node`, as `token`'s holder when given; `headers=` adds to the bearer."""
    headers = {**(bearer(token) if token else {}), **kw.pop("headers", {})}
    async with node.client() as client:
        return await client.request(method, path, headers=headers, **kw)


async def get(node: Node, path: str, token: str | None = None, **params: Any) -> httpx.Response:
    # No params at all when none are given: an empty mapping would drop the path's query.
    return await call(node, "GET", path, token, params=params or None)


async def signed_post(node: Node, path: str, body: bytes, key_id: str, key: Any) -> httpx.Response:
    """POST an activity to `node`, signed with `key` as servers sign (draft-cavage)."""
    headers = {"Content-Type": ACTIVITY_JSON}
    url = f"https://{node.domain}{path}"
    headers.update(sign_cavage("POST", url, headers, body, key_id, key))
    async with node.client() as client:
        return await client.post(path, content=body, headers=headers)


async def app_token(node: Node, actor: Actor, scopes: str = "read") -> str:
    """A token of an OAuth app (not a password sign-in) for `actor`, with only `scopes`."""
    async with node.instance.sessions() as session:
        app = OAuthApp(
            client_id=secrets.token_hex(8), client_secret_hash="x", name="reader", redirect_uris=""
        )
        session.add(app)
        await session.flush()
        token = await create_token(session, actor, "reader", scopes=scopes)
        row = await token_row(session, token)
        assert row is not None
        row.app_id = app.id
        await session.commit()
    return token


# --- the database ----------------------------------------------------------------------------


async def count(node: Node, model: Any, *where: Any) -> int:
    """How many rows of `model` match every condition of `where`."""
    async with node.instance.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def audit_actions(node: Node) -> list[str]:
    async with node.instance.sessions() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# --- the command line ------------------------------------------------------------------------


def cli_env(data_dir: Path, **settings: str) -> dict[str, str | None]:
    """The environment of an `ourdesign` command on `data_dir` (None unsets a variable);
    `settings` are further OURDESIGN_ variables, by setting name."""
    return {
        "OURDESIGN_DATA_DIR": str(data_dir),
        "OURDESIGN_DOMAIN": "coop.test",
        "OURDESIGN_SCHEME": "https",
        "OURDESIGN_DATABASE_URL": None,
        "OURDESIGN_CONFIG": None,
        **{f"OURDESIGN_{name.upper()}": value for name, value in settings.items()},
    }


def run_cli(env: dict[str, str | None], *args: str, code: int = 0) -> str:
    """Run an `ourdesign` command in this process; check its exit code and return its output."""
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def ourdesign(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the `ourdesign` entry point as a real subprocess on a SQLite database in `data_dir`."""
    env = {
        **os.environ,
        "OURDESIGN_DATA_DIR": str(data_dir),
        "OURDESIGN_DOMAIN": "coop.test",
        "OURDESIGN_SCHEME": "https",
    }
    env.pop("OURDESIGN_DATABASE_URL", None)
    # The entry point (web.main:main), with the commands its modules add.
    program = "from web.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", program, *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
    )
