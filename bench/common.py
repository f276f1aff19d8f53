"""Shared pieces of the benchmarks: ports, throw-away databases, child servers, raw HTTP.

Also a small command line used to start the benchmarks' child processes:

    python bench/common.py serve PORT   # the instance (settings from OURDESIGN_* variables)
    python bench/common.py serve-web PORT  # the same without in-process workers
    python bench/common.py worker 0     # an `ourdesign worker` process
    python bench/common.py sink PORT [DELAY]  # 202 to every POST, for any Host (after DELAY s)

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

HERE = Path(__file__).resolve().parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
REASONS = {200: "OK", 202: "Accepted", 404: "Not Found", 405: "Method Not Allowed"}
EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DUMMY_PEM = "-----BEGIN PUBLIC KEY-----\nbench\n-----END PUBLIC KEY-----\n"
# (method, path, lower-cased headers, body) -> (status, JSON body)
Handler = Callable[[str, str, dict[str, str], bytes], tuple[int, bytes]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def temp_database(kind: str) -> AsyncIterator[tuple[str, Path]]:
    """(database URL, data dir); the directory and any PostgreSQL database are removed after."""
    with tempfile.TemporaryDirectory(prefix="ourdesign-bench-") as tmp:
        if kind == "sqlite":
            yield f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", Path(tmp)
            return
        import asyncpg

        name = "ourdesign_bench_" + secrets.token_hex(4)
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        try:
            yield PG_URL.format(name=name), Path(tmp)
        finally:
            admin = await asyncpg.connect(PG_ADMIN_URL)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


@contextlib.contextmanager
def child(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Run `python bench/common.py ARGS` in its own process; terminated on exit.

    Inherited OURDESIGN_* variables are dropped, so that only `env` configures the child.
    """
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("OURDESIGN_")}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "common.py"), *args],
        env={**inherited, **(env or {})},
        cwd=HERE.parent,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def wait_ready(url: str, proc: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    """Poll `url` until it answers 200; fail if the process dies or time runs out."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the child process exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url, timeout=2)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {seconds:.0f}s")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine, all cores and processes (Linux /proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(pid: int) -> tuple[float, float, float]:
    """CPU seconds so far of: the process `pid`, this process, the whole machine."""
    return process_cpu_seconds(pid), time.process_time(), machine_cpu_seconds()


def load_note() -> str:
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


def latency_summary(sorted_values: list[float]) -> tuple[float, float, float, float]:
    """p50, p90, p99 and max of sorted latencies (NaN for none)."""
    p50, p90, p99 = (percentile(sorted_values, pct) for pct in (50, 90, 99))
    return p50, p90, p99, sorted_values[-1] if sorted_values else float("nan")


def server_env(port: int, data_dir: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The OURDESIGN_* variables of an instance served on 127.0.0.1:`port`; `settings` are
    further variables, by setting name."""
    values = {
        "domain": f"127.0.0.1:{port}",
        "scheme": "http",
        "data_dir": str(data_dir),
        "database_url": database_url,
        **settings,
    }
    return {f"OURDESIGN_{name.upper()}": value for name, value in values.items()}


def actor_row(
    uri: str,
    username: str,
    domain: str,
    *,
    kind: str = "Person",
    local: bool,
    name: str | None = None,
    pem: str = DUMMY_PEM,
    entity_kind: str = "individual",
) -> dict[str, Any]:
    """An `actors` row to insert in bulk, with the URLs an instance would give the actor."""
    base = uri.rsplit("/users/", 1)[0]
    return {
        "uri": uri,
        "type": kind,
        "local": local,
        "username": username,
        "domain": domain,
        "name": name if name is not None else username,
        "summary": "",
        "url": f"{base}/@{username}",
        "inbox": f"{uri}/inbox",
        "shared_inbox": f"{base}/inbox",
        "outbox": f"{uri}/outbox",
        "followers_url": f"{uri}/followers",
        "following_url": f"{uri}/following",
        "public_key_id": f"{uri}#main-key",
        "public_key_pem": pem,
        "entity_kind": entity_kind,
        "created_at": EPOCH,
        "updated_at": EPOCH,
    }


def print_table(title: str, rows: list[tuple[str, object]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    for name, value in rows:
        shown = f"{value:,.1f}" if isinstance(value, float) else str(value)
        print(f"  {name:<{width}}  {shown}")


# --- raw HTTP/1.1 over asyncio streams: cheap enough not to be what is measured --------------


async def serve_http(handler: Handler, port: int, delay: float = 0.0) -> asyncio.Server:
    """A keep-alive HTTP/1.1 server on 127.0.0.1:port calling `handler` for each request;
    each answer is sent `delay` seconds after the request (a slow peer)."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                method, path, _ = head[0].split(" ", 2)
                headers = {}
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, payload = handler(method, path, headers, body)
                if delay and method == "POST":
                    await asyncio.sleep(delay)
                writer.write(
                    f"HTTP/1.1 {status} {REASONS.get(status, 'X')}\r\n"
                    "Content-Type: application/activity+json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(connection, "127.0.0.1", port, backlog=2048)


async def raw_exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """Send one complete request on a keep-alive connection; return (status, body)."""
    status, _, body = await raw_exchange_with_head(reader, writer, request)
    return status, body


async def raw_exchange_with_head(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes, bytes]:
    """Like `raw_exchange`, keeping the response head too (for headers such as Link)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(head[9:12]), head, await reader.readexactly(length)


# --- child process entry points ----------------------------------------------------------


def _serve(port: int, *, workers: bool = True) -> None:
    import uvicorn

    from federation.settings import Settings
    from web.app import create_app

    app = create_app(Settings.from_env(), run_workers=workers)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _sink(port: int, delay: float = 0.0) -> None:
    """202 to any POST (after `delay` s), counted by Host; GET /_stats gives the counts, first
    and last POST time."""
    per_host: Counter[str] = Counter()
    first, last = [0.0], [0.0]

    def handle(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if method == "POST":
            per_host[headers.get("host", "")] += 1
            last[0] = time.time()
            first[0] = first[0] or last[0]
            return 202, b"{}"
        if path == "/_stats":
            return 200, json.dumps(
                {"per_host": per_host, "first": first[0], "last": last[0]}
            ).encode()
        return 404, b"{}"

    server = await serve_http(handle, port, delay)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    sys.path[0] = str(HERE.parent)  # bench/inbox.py would shadow the `inbox` package
    command, port_arg = sys.argv[1], int(sys.argv[2])
    if command == "serve":
        _serve(port_arg)
    elif command == "serve-web":  # the web app only; `worker` processes do the work
        _serve(port_arg, workers=False)
    elif command == "worker":
        from web.main import main

        main(["worker"])
    elif command == "sink":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_sink(port_arg, float(sys.argv[3]) if len(sys.argv) > 3 else 0.0))
    else:
        raise SystemExit(f"unknown command {command!r}")


# Rows per INSERT executemany when seeding (insertmanyvalues batches them on PostgreSQL).
BATCH = 5_000


async def bulk(conn: AsyncConnection, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Core INSERT executemany in batches."""
    for start in range(0, len(rows), BATCH):
        await conn.execute(insert(model), list(rows[start : start + BATCH]))
