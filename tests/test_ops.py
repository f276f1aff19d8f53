"""Operations: /healthz, /readyz, /metrics and `ourdesign check`, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import uuid

import httpx
from sqlalchemy import text

from federation.db import make_engine
from federation.settings import Settings
from tests.conftest import _pg_url
from tests.support import cli_env, run_cli, settle
from web.logs import configure_logging
from web.ops.checks import (
    DISK_FAIL_BYTES,
    SELF_TEST_HINT,
    check_data_dir_writable,
    check_database,
    check_disk,
    check_migrations,
    run_checks,
)


def _client(node, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=node.app, client=(host, 123))
    return httpx.AsyncClient(transport=transport, base_url=f"https://{node.domain}")


async def test_healthz_and_readyz(nodes):
    a = await nodes("a.test")
    async with a.client() as client:
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"

        async with a.instance.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        stale = await client.get("/readyz")
        assert stale.status_code == 503
        assert stale.json()["check"] == "schema" and "0001" in stale.json()["error"]

        async with a.instance.engine.begin() as connection:
            await connection.execute(text("DROP TABLE alembic_version"))
        missing = await client.get("/readyz")
        assert missing.status_code == 503 and "ourdesign migrate" in missing.json()["error"]


async def test_metrics_are_local_only(nodes):
    a = await nodes("a.test")
    async with _client(a, "203.0.113.7") as client:
        assert (await client.get("/metrics")).status_code == 403
    async with _client(a, "127.0.0.1") as client:
        await client.get("/healthz")
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    body = response.text
    assert 'ourdesign_http_requests_total{method="GET",status="200"}' in body
    assert 'ourdesign_http_requests_total{method="GET",status="403"} 1' in body
    assert 'ourdesign_inbox_queue{state="pending"} 0' in body
    assert 'ourdesign_delivery_queue{state="pending"} 0' in body
    assert "ourdesign_hosts_unavailable 0" in body


async def test_metrics_from_afar_need_an_admin_token(nodes):
    a = await nodes("a.test")
    _, admin = await a.user("root", role="admin")
    _, moderator = await a.user("mod", role="moderator")
    async with _client(a, "203.0.113.7") as client:
        assert (await client.get("/metrics")).status_code == 403
        as_moderator = await client.get(
            "/metrics", headers={"Authorization": f"Bearer {moderator}"}
        )
        assert as_moderator.status_code == 403 and "admin" in as_moderator.json()["error"]
        forged = await client.get("/metrics", headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 401
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 200
    assert "ourdesign_inbox_queue" in response.text


async def test_metrics_show_pending_deliveries_and_failing_hosts(nodes, network):
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    follow = await a.post_outbox("alice", alice_token, {"type": "Follow", "object": "@bob@b.test"})
    assert follow.status_code == 201
    await settle(a, b)

    network.down.add("a.test")
    note = await b.post_outbox("bob", bob_token, {"type": "Note", "content": "queued"})
    assert note.status_code == 201
    async with _client(b, "::1") as client:
        body = (await client.get("/metrics")).text
    assert 'ourdesign_delivery_queue{state="pending"} 1' in body

    await b.instance.delivery_worker.run_once()
    async with _client(b, "127.0.0.1") as client:
        body = (await client.get("/metrics")).text
    assert 'ourdesign_delivery_failures{host="a.test"} 1' in body
    assert 'ourdesign_delivery_queue{state="pending"} 1' in body


async def test_checks_pass_on_a_healthy_instance(nodes, network):
    a = await nodes("a.test")
    settings = a.instance.settings
    offline = await run_checks(settings, offline=True)
    assert [r.name for r in offline] == [
        "config",
        "database",
        "migrations",
        "instance key",
        "disk space",
        "data dir",
        "federation",
    ]
    assert all(r.ok for r in offline), [r.line() for r in offline]
    assert offline[-1].label == "skip"

    online = await run_checks(settings, transport=network)
    assert online[-1].ok, online[-1].detail

    network.down.add("a.test")
    down = await run_checks(settings, transport=network)
    assert not down[-1].ok
    assert SELF_TEST_HINT.format(base_url=settings.base_url) in down[-1].detail


async def test_pending_migrations_are_reported(nodes):
    a = await nodes("a.test")
    async with a.instance.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    result = await check_migrations(a.instance.settings, a.instance.engine)
    assert not result.ok
    assert "pending: 0002" in result.detail


async def test_a_missing_postgresql_database_fails_clearly(pg_template):
    name = f"od_missing_{uuid.uuid4().hex[:8]}"
    settings = Settings(database_url=_pg_url(name))
    engine = make_engine(settings)
    try:
        result = await check_database(settings, engine)
    finally:
        await engine.dispose()
    assert not result.ok
    assert f'database "{name}" does not exist' in result.detail


def test_disk_and_data_dir_checks(tmp_path):
    assert check_disk(tmp_path, usage=lambda _: 50 * 1024**3).label == "ok"
    assert check_disk(tmp_path, usage=lambda _: 500 * 1024**2).label == "warn"
    assert not check_disk(tmp_path, usage=lambda _: DISK_FAIL_BYTES - 1).ok
    assert check_data_dir_writable(tmp_path).ok
    assert not check_data_dir_writable(tmp_path / "absent").ok


def test_cli_check_offline(tmp_path):
    env = cli_env(tmp_path)
    assert "run `ourdesign migrate`" in run_cli(env, "check", "--offline", code=1)

    run_cli(env, "migrate")
    checked = run_cli(env, "check", "--offline")
    assert "FAIL" not in checked
    for name in ("config", "database", "migrations", "instance key", "disk space", "data dir"):
        assert f"{name}:" in checked

    # Nothing listens on port 9: the self-test fails with a hint.
    local = {**env, "OURDESIGN_DOMAIN": "127.0.0.1:9", "OURDESIGN_SCHEME": "http"}
    local["OURDESIGN_ALLOW_PRIVATE_ADDRESSES"] = "true"
    online = run_cli(local, "check", code=1)
    assert "FAIL  federation" in online and "ourdesign serve" in online


async def test_requests_are_logged_as_json_lines(nodes):
    a = await nodes("a.test")
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    configure_logging("json", "info", stream=buffer)
    try:
        async with a.client() as client:
            await client.get("/healthz")
            await client.get("/users/nobody")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "ourdesign.access"]
    assert [(line["method"], line["path"], line["status"]) for line in access] == [
        ("GET", "/healthz", 200),
        ("GET", "/users/nobody", 404),
    ]
    assert all(line["level"] == "INFO" and line["duration_ms"] >= 0 for line in access)
    assert access[0]["message"] == "GET /healthz 200" and "time" in access[0]


def test_log_lines_carry_no_terminal_colours():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    configure_logging("json", "info", stream=buffer)
    try:
        logging.getLogger("uvicorn.error").info(
            "Started server process [%d]", 7, extra={"color_message": "\x1b[36m%d\x1b[0m"}
        )
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    (line,) = [json.loads(text) for text in buffer.getvalue().splitlines()]
    assert line["message"] == "Started server process [7]" and "color_message" not in line
