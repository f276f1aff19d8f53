"""Fixtures: a fresh database per instance on SQLite and on PostgreSQL.

Each backend is migrated once into a template (a file for SQLite, a template
database for PostgreSQL) that every test copies. PostgreSQL is optional on a
developer's machine but required when CI=true.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from federation.db import make_engine
from federation.settings import Settings
from tests.s3_server import moto_server, new_bucket_settings
from tests.support import Network, Node, running_node
from web.schema import migrate

PG_DSN = os.environ.get("OURDESIGN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TEMPLATE = f"od_template_{os.getpid()}"


def _run(coro) -> object:
    """Run a coroutine to completion in its own thread and loop (session fixtures are sync)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _pg_url(name: str) -> str:
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_available() -> bool:
    async def probe() -> None:
        conn = await asyncpg.connect(PG_DSN, timeout=3)
        await conn.close()

    try:
        _run(probe())
        return True
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False


async def _migrate_to(url: str) -> None:
    settings = Settings(database_url=url)
    engine = make_engine(settings)
    await migrate(engine, settings)
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _run(_migrate_to(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template() -> AsyncIterator[str]:
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {PG_DSN}")
        pytest.skip(f"PostgreSQL not reachable at {PG_DSN}")
    _run(_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}"'))
    _run(_admin(f'CREATE DATABASE "{TEMPLATE}"'))
    _run(_migrate_to(_pg_url(TEMPLATE)))
    yield TEMPLATE
    _run(_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
async def new_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of fresh, migrated databases on the parametrised backend."""
    created: list[str] = []

    async def make() -> str:
        name = f"od_{uuid.uuid4().hex[:12]}"
        if request.param == "sqlite":
            path = tmp_path / f"{name}.sqlite3"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            return f"sqlite+aiosqlite:///{path}"
        template = request.getfixturevalue("pg_template")
        await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        created.append(name)
        return _pg_url(name)

    yield make
    for name in created:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def network() -> Network:
    return Network()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto_server) on loopback, for the whole run."""
    with moto_server() as url:
        yield url


@pytest.fixture
def file_store(request: pytest.FixtureRequest) -> str:
    """Where `nodes` keep their files: "local" unless a test module parametrises it
    (`pytest.mark.parametrize("file_store", ["local", "s3"], indirect=True)`)."""
    return getattr(request, "param", "local")


@pytest.fixture
async def nodes(
    new_database: Callable[[], Awaitable[str]],
    network: Network,
    tmp_path: Path,
    file_store: str,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[..., Awaitable[Node]]]:
    """Start instances by domain: `a = await nodes("a.test", registration_mode="open")`."""
    stack: list = []

    async def start(domain: str, **settings: Any) -> Node:
        if file_store == "s3":
            endpoint = request.getfixturevalue("s3_endpoint")
            settings = await new_bucket_settings(endpoint) | settings
        cm = running_node(domain, await new_database(), tmp_path / domain, network, **settings)
        stack.append(cm)
        return await cm.__aenter__()

    yield start
    for cm in reversed(stack):
        await cm.__aexit__(None, None, None)
