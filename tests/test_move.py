"""`ourdesign db move-to-postgres`: a federating SQLite instance (designs, a fork, comments,
follows, keys and queues) moved into a fresh PostgreSQL database, row for row and value
for value, then started on PostgreSQL and still publishing, commenting and federating.
Refusals (a non-empty target, a non-SQLite source, an old schema) change nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import aliased
from sqlalchemy.pool import NullPool

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from federation.db import make_engine
from federation.settings import Settings
from objects.design_models import DesignVersion
from tests.conftest import PG_DSN, _admin, _pg_available, _pg_url
from tests.support import Network, call, cli_env, run_cli, running_node, settle
from tests.test_design_api import PNG, STL, new_project, publish, version
from web.ops.move import MoveError, move_to_postgres
from web.schema import head_revisions, metadata, migrate

TABLES = [table for table in metadata().sorted_tables if table.name != "alembic_version"]


@pytest.fixture
async def empty_pg() -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of new, empty (unmigrated) PostgreSQL databases."""
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {PG_DSN}")
        pytest.skip(f"PostgreSQL not reachable at {PG_DSN}")
    created: list[str] = []

    async def make() -> str:
        name = f"od_move_{uuid.uuid4().hex[:12]}"
        await _admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _pg_url(name)

    yield make
    for name in created:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite_copy(request: pytest.FixtureRequest, path: Path) -> str:
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite+aiosqlite:///{path}"


async def _rows(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, through the column types, in primary-key order."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as conn:
        for table in TABLES:
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [dict(row._mapping) for row in await conn.execute(query)]
    return out


async def _dump(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = make_engine(Settings(database_url=url))
    try:
        return await _rows(engine)
    finally:
        await engine.dispose()


def _datetimes(rows: dict[str, list[dict[str, Any]]]) -> list[dt.datetime]:
    return [
        value
        for table in rows.values()
        for row in table
        for value in row.values()
        if isinstance(value, dt.datetime)
    ]


async def test_a_federating_sqlite_instance_moves_to_postgresql(
    request: pytest.FixtureRequest,
    empty_pg: Callable[[], Awaitable[str]],
    tmp_path: Path,
) -> None:
    network = Network()
    source_url = _sqlite_copy(request, tmp_path / "a.sqlite3")
    b_url = _sqlite_copy(request, tmp_path / "b.sqlite3")
    async with contextlib.AsyncExitStack() as stack:
        b = await stack.enter_async_context(
            running_node("b.test", b_url, tmp_path / "b.test", network)
        )
        carol, carol_token = await b.user("carol")

        # The SQLite instance: a design with files, a fork, comments, follows both ways.
        async with running_node("a.test", source_url, tmp_path / "a.test", network) as a:
            _, alice_token = await a.user("alice")
            _, bob_token = await a.user("bob")
            await new_project(a, alice_token, "lamp", name="Desk lamp")
            response = await publish(
                a,
                alice_token,
                "lamp",
                {"label": "v1.0", "summary": "Bends", "licence": "CC-BY-SA-4.0"},
                [
                    ("files", ("lamp.stl", STL, "model/stl")),
                    ("previews", ("lamp.png", PNG, "image/png")),
                ],
            )
            assert response.status_code == 201, response.text
            doc = response.json()
            forked = await call(
                a,
                "POST",
                "/api/v1/forks",
                bob_token,
                json={"upstream": doc["id"], "slug": "lamp2", "licence": "CC-BY-SA-4.0"},
            )
            assert forked.status_code == 201, forked.text
            comment = {"in_reply_to": doc["id"], "content": "Lovely lamp"}
            assert (await call(a, "POST", "/api/v1/comments", bob_token, json=comment)).is_success
            follow = {"target": "@lamp@a.test"}
            assert (await call(b, "POST", "/api/v1/follows", carol_token, json=follow)).is_success
            follow = {"target": "@carol@b.test"}
            assert (await call(a, "POST", "/api/v1/follows", alice_token, json=follow)).is_success
            await settle(a, b)
            remote = {"in_reply_to": doc["id"], "content": "From afar"}
            assert (await call(b, "POST", "/api/v1/comments", carol_token, json=remote)).is_success
            await settle(a, b)
            project = (await call(a, "GET", "/api/v1/designs/lamp")).json()
            shown = (await call(a, "GET", "/api/v1/versions", params={"uri": doc["id"]})).json()
            fork = (await call(a, "GET", "/api/v1/designs/lamp2")).json()
            lineage = (
                await call(a, "GET", "/api/v1/lineage", params={"version": doc["id"]})
            ).json()
            assert shown["replies_count"] == 2 and project["forks_count"] == 1
            a_settings = a.instance.settings
        before = await _dump(source_url)
        for name in ("actors", "projects", "design_versions", "version_files", "forks"):
            assert before[name], name
        for name in ("notes", "follows", "outbox_activities", "deliveries", "inbox_items"):
            assert before[name], name
        assert all(value.tzinfo is dt.UTC for value in _datetimes(before))

        target = await empty_pg()
        report = await move_to_postgres(a_settings, target)
        assert report.tables == {name: len(rows) for name, rows in before.items()}
        assert report.revision and "unchanged" in " ".join(report.notes)
        assert "OURDESIGN_DATABASE_URL=" + target in report.next_step()

        # Value for value: aware datetimes, JSON documents, keys, queue states.
        after = await _dump(target)
        assert after == before
        engine = create_async_engine(target, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                published = await conn.scalar(text("SELECT published FROM design_versions"))
                kinds = set(
                    await conn.scalars(
                        text(
                            "SELECT data_type FROM information_schema.columns"
                            " WHERE table_schema = 'public' AND data_type LIKE 'timestamp%'"
                        )
                    )
                )
        finally:
            await engine.dispose()
        assert isinstance(published, dt.datetime) and published.utcoffset() == dt.timedelta(0)
        assert kinds == {"timestamp with time zone"}

        # The same instance, now on PostgreSQL: same documents, same files, still working.
        moved = a_settings.with_changes(database_url=target)
        assert moved.effective_database_url == target
        a = await stack.enter_async_context(
            running_node("a.test", target, a_settings.data_dir, network)
        )
        assert a.instance.settings.effective_database_url == target
        assert (await call(a, "GET", "/api/v1/designs/lamp")).json() == project
        assert (await call(a, "GET", "/api/v1/designs/lamp2")).json() == fork
        again = await call(a, "GET", "/api/v1/versions", params={"uri": doc["id"]})
        assert again.json() == shown
        assert (
            await call(a, "GET", "/api/v1/lineage", params={"version": doc["id"]})
        ).json() == lineage
        for file, data in zip(doc["files"], (PNG, STL), strict=True):
            download = await call(a, "GET", file["url"].removeprefix("https://a.test"))
            assert download.status_code == 200 and download.content == data
            assert hashlib.sha256(download.content).hexdigest() == file["sha256"]

        # New rows get new ids (the sequences were reset).
        second = await version(a, alice_token, "lamp", "CC-BY-SA-4.0", label="v2.0")
        assert second["number"] == 2
        reply = {"in_reply_to": second["id"], "content": "Even better"}
        assert (await call(a, "POST", "/api/v1/comments", bob_token, json=reply)).status_code == 201
        dave, dave_token = await b.user("dave")
        follow = {"target": "@lamp@a.test"}
        assert (await call(b, "POST", "/api/v1/follows", dave_token, json=follow)).is_success
        await new_project(a, bob_token, "chair")
        await settle(a, b)
        async with a.instance.sessions() as session:
            follower, followee = aliased(Actor), aliased(Actor)
            followers = set(
                await session.scalars(
                    select(follower.uri)
                    .join(Follow, Follow.follower_id == follower.id)
                    .join(followee, Follow.followee_id == followee.id)
                    .where(Follow.state == FOLLOW_ACCEPTED, followee.uri == project["id"])
                )
            )
        assert followers == {carol.uri, dave.uri}
        # carol (on b) got the new version through the moved instance's delivery queue.
        async with b.instance.sessions() as session:
            assert await session.scalar(
                select(DesignVersion.id).where(DesignVersion.uri == second["id"])
            )
        final = await _dump(target)
        for value in _datetimes(final):
            assert value.tzinfo is not None
        for name in ("design_versions", "notes", "follows", "outbox_activities", "projects"):
            ids = [row["id"] for row in final[name]]
            assert len(ids) > len(before[name]) and len(set(ids)) == len(ids)

        # The moved target is no longer empty: a second move is refused and changes nothing.
        with pytest.raises(MoveError, match="not empty"):
            await move_to_postgres(a_settings, target)
        assert {name: len(rows) for name, rows in (await _dump(target)).items()} == {
            name: len(rows) for name, rows in final.items()
        }


async def test_refusals_change_nothing(
    request: pytest.FixtureRequest, empty_pg: Callable[[], Awaitable[str]], tmp_path: Path
) -> None:
    source = Settings(domain="a.test", data_dir=tmp_path / "a")
    source.data_dir.mkdir()
    target = await empty_pg()
    with pytest.raises(MoveError, match="does not exist"):
        await move_to_postgres(source, target)
    _sqlite_copy(request, source.data_dir / "ourdesign.sqlite3")

    with pytest.raises(MoveError, match="not SQLite"):
        await move_to_postgres(Settings(database_url=target), await empty_pg())
    for url in ("postgresql://postgres@127.0.0.1/x", "mysql+aiomysql://u@h/x", "nonsense"):
        with pytest.raises(MoveError, match="postgresql\\+asyncpg"):
            await move_to_postgres(source, url)

    # An old source schema: migrate first.
    await _set_revision(source, "0002")
    with pytest.raises(MoveError, match="ourdesign migrate"):
        await move_to_postgres(source, target)
    (head,) = head_revisions(source)
    await _set_revision(source, head)
    assert await _table_count(target) == 0  # untouched: no tables yet

    # A migrated, empty target is fine; one with rows is not (and keeps them).
    migrated = Settings(database_url=target)
    engine = make_engine(migrated)
    await migrate(engine, migrated)
    await engine.dispose()
    report = await move_to_postgres(source, target)
    assert set(report.tables) == {table.name for table in TABLES}
    assert set(report.tables.values()) == {0}
    async with running_node("a.test", target, source.data_dir, Network()) as a:
        await a.user("zed")
    before = await _dump(target)
    with pytest.raises(MoveError, match="not empty \\(rows in actors"):
        await move_to_postgres(source, target)
    assert await _dump(target) == before


async def _table_count(url: str) -> int:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            query = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            return int(await conn.scalar(text(query)) or 0)
    finally:
        await engine.dispose()


async def _set_revision(settings: Settings, revision: str) -> None:
    engine = make_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        await engine.dispose()


def test_the_command(tmp_path: Path, empty_pg: Callable[[], Awaitable[str]]) -> None:
    import asyncio

    target = asyncio.run(_in_thread(empty_pg))
    env = cli_env(tmp_path / "data")

    def run(*args: str, code: int = 0) -> str:
        return run_cli(env, *args, code=code)

    run("user", "create", "ada", "--email", "ada@coop.test", "--password", "long enough")
    out = run("db", "move-to-postgres", target)
    # The instance actor, the cooperative and ada; the VAPID key made at the first start.
    assert re.search(r"^  actors +3$", out, re.M) and re.search(r"^  accounts +1$", out, re.M)
    assert re.search(r"^  vapid_keys +1$", out, re.M)
    assert re.search(r"^  projects +0$", out, re.M) and out.startswith("moved 5 rows")
    assert "OURDESIGN_DATABASE_URL=" in out and "file store" in out
    assert "not empty" in run("db", "move-to-postgres", target, code=1)
    assert "postgresql+asyncpg" in run("db", "move-to-postgres", "sqlite:///x", code=1)
    env["OURDESIGN_DATABASE_URL"] = target
    assert len(run("token", "create", "ada").strip()) >= 40


async def _in_thread(factory: Callable[[], Awaitable[str]]) -> str:
    return await factory()
