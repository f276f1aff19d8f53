"""Inbox throughput: signed Create(Note) activities posted concurrently to a real server.

    python bench/inbox.py --db sqlite|postgresql [--senders 64] [--activities 5000]
                          [--synchronous full,normal]

A key server (in this process) serves the documents of 100 remote actors with RSA-2048 keys;
the instance runs under uvicorn in a child process. After a warm-up (one activity per actor,
so that key fetches are not measured) the pre-signed activities are sent by `--senders`
keep-alive connections to the shared inbox. Prints accepted/s, latencies, and how fast the
inbox worker processes what was accepted. Everything stays on 127.0.0.1. With several
`--synchronous` values (SQLite's setting), the whole run is repeated for each and compared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# Run as `python bench/inbox.py`, this folder heads sys.path and this very file would shadow the
# project's `inbox` package; the project root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    child,
    cpu_snapshot,
    free_port,
    latency_summary,
    load_note,
    print_table,
    raw_exchange,
    serve_http,
    server_env,
    temp_database,
    wait_ready,
)
from federation.signatures import sign_cavage

AS = "https://www.w3.org/ns/activitystreams"
LATENCY_ROWS = ("latency p50 ms", "latency p90 ms", "latency p99 ms", "latency max ms")
PUBLIC = AS + "#Public"
Prepared = tuple[dict[str, str], bytes, bytes]  # headers, body, the whole raw request


def make_actors(base: str, count: int) -> tuple[list[tuple[str, Any]], dict[str, bytes]]:
    """(actor id, private key) pairs and their documents by path."""
    actors, docs = [], {}
    for n in range(count):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        uri = f"{base}/users/r{n}"
        docs[f"/users/r{n}"] = json.dumps(
            {
                "@context": [AS, "https://w3id.org/security/v1"],
                "id": uri,
                "type": "Person",
                "preferredUsername": f"r{n}",
                "inbox": f"{uri}/inbox",
                "outbox": f"{uri}/outbox",
                "followers": f"{uri}/followers",
                "endpoints": {"sharedInbox": f"{base}/inbox"},
                "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": pem.decode()},
            }
        ).encode()
        actors.append((uri, key))
    return actors, docs


def prepare(port: int, actor: str, key: Any, n: int) -> Prepared:
    """One signed Create(Note) for the shared inbox (the Date is now; the window is an hour)."""
    note = f"{actor}/notes/{uuid.uuid4().hex}"
    activity = {
        "@context": AS,
        "id": f"{note}/activity",
        "type": "Create",
        "actor": actor,
        "to": [PUBLIC],
        "object": {
            "id": note,
            "type": "Note",
            "attributedTo": actor,
            "content": f"<p>Benchmark note {n}: a design for a bicycle trailer.</p>",
            "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "to": [PUBLIC],
        },
    }
    body = json.dumps(activity).encode()
    headers = {"Content-Type": "application/activity+json"}
    url = f"http://127.0.0.1:{port}/inbox"
    headers.update(sign_cavage("POST", url, headers, body, f"{actor}#main-key", key))
    head = ["POST /inbox HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    raw = "\r\n".join([*head, f"Content-Length: {len(body)}", "", ""]).encode() + body
    return headers, body, raw


async def send_all(
    port: int, requests: list[Prepared], senders: int, client: str, rate: float | None = None
) -> list[tuple[float, int, bytes]]:
    """POST every request over `senders` connections; (latency s, status, body) for each.

    With `rate`, request i is due at i/rate seconds (open loop, raw client only) and its
    latency counts from when it was due, so a server falling behind is not hidden."""
    pending = enumerate(requests)
    results: list[tuple[float, int, bytes]] = []
    began = time.perf_counter()

    async def raw_sender() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for index, (_, _, raw) in pending:
            start = time.perf_counter()
            if rate:
                due = began + index / rate
                await asyncio.sleep(max(0.0, due - start))
                start = due
            try:
                status, body = await raw_exchange(reader, writer, raw)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                status, body = 0, repr(exc).encode()
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            results.append((time.perf_counter() - start, status, body))
        writer.close()

    async def httpx_sender(http: httpx.AsyncClient) -> None:
        for _, (headers, body, _) in pending:
            start = time.perf_counter()
            try:
                response = await http.post("/inbox", content=body, headers=headers)
                status, answer = response.status_code, response.content
            except httpx.HTTPError as exc:
                status, answer = 0, repr(exc).encode()
            results.append((time.perf_counter() - start, status, answer))

    async with asyncio.timeout(600):
        if client == "raw":
            await asyncio.gather(*(raw_sender() for _ in range(senders)))
        else:
            limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
                await asyncio.gather(*(httpx_sender(http) for _ in range(senders)))
    return results


async def processed(engine: AsyncEngine) -> tuple[int, float | None, int]:
    """(items done, the last one's time, items with an error); plain SQL, no `inbox` import."""
    async with engine.connect() as conn:
        done, last, errors = (
            await conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE state = 'done'), max(processed_at),"
                    " count(*) FILTER (WHERE last_error IS NOT NULL) FROM inbox_items"
                )
            )
        ).one()
    if isinstance(last, str):  # SQLite keeps naive UTC text
        last = dt.datetime.fromisoformat(last).replace(tzinfo=dt.UTC)
    return done or 0, last.timestamp() if last else None, errors or 0


async def wait_processed(engine: AsyncEngine, target: int, seconds: float) -> None:
    for _ in range(int(seconds * 10)):
        if (await processed(engine))[0] >= target:
            return
        await asyncio.sleep(0.1)


async def run(args: argparse.Namespace, synchronous: str) -> tuple[float, ...]:
    """One measured run; returns accepted/s, latency p50 and p99 (ms) and processed/s."""
    key_port, port = free_port(), free_port()
    started = time.perf_counter()
    actors, docs = make_actors(f"http://127.0.0.1:{key_port}", args.actors)
    warm = [prepare(port, uri, key, -1) for uri, key in actors]
    measured = [prepare(port, *actors[n % len(actors)], n) for n in range(args.activities)]
    print(f"keys and signatures prepared in {time.perf_counter() - started:.1f}s")

    def key_doc(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        return (200, docs[path]) if method == "GET" and path in docs else (404, b"{}")

    key_server = await serve_http(key_doc, key_port)
    async with temp_database(args.db) as (url, data_dir):
        env = server_env(
            port, data_dir, url, allow_private_addresses="true", sqlite_synchronous=synchronous
        )
        engine = create_async_engine(url)
        try:
            web = "serve-web" if args.split else "serve"
            with (
                child(web, str(port), env=env) as server,
                child("worker", "0", env=env) if args.split else contextlib.nullcontext(),
            ):
                await wait_ready(f"http://127.0.0.1:{port}/.well-known/nodeinfo", server)
                warm_results = await send_all(port, warm, min(args.senders, len(warm)), args.client)
                warm_ok = sum(1 for _, status, _ in warm_results if status == 202)
                await wait_processed(engine, warm_ok, args.timeout)

                load, cpu0, t0 = load_note(), cpu_snapshot(server.pid), time.time()
                results = await send_all(port, measured, args.senders, args.client, args.rate)
                cpu1, t1 = cpu_snapshot(server.pid), time.time()
                backlog = warm_ok + len(measured) - (await processed(engine))[0]
                accepted = sum(1 for _, status, _ in results if status == 202)
                await wait_processed(engine, warm_ok + accepted, args.timeout)
                done, last, item_errors = await processed(engine)
                cpu2 = cpu_snapshot(server.pid)
        finally:
            await engine.dispose()
            key_server.close()

    send_time = t1 - t0
    latencies = sorted(latency * 1000 for latency, _, _ in results)
    errors = [(status, body[:200]) for _, status, body in results if status != 202]
    measured_done = done - warm_ok
    caught_up = measured_done >= accepted and last is not None
    rate = measured_done / (last - t0) if last and last > t0 else 0.0
    server, sender, machine = (
        100 * (after - before) / send_time for before, after in zip(cpu0, cpu1, strict=True)
    )
    print_table(
        "settings",
        [
            ("run", f"--db {args.db} --senders {args.senders} --activities {args.activities}"),
            ("offered rate", f"{args.rate:,.0f}/s (open loop)" if args.rate else "closed loop"),
            ("remote actors, client", f"{args.actors}, {args.client}"),
            ("processes", "serve --no-workers + worker" if args.split else "serve"),
            ("sqlite synchronous", synchronous if args.db == "sqlite" else "(PostgreSQL)"),
            ("warm-up accepted", f"{warm_ok}/{len(warm)}"),
            ("machine before sending", load),
        ],
    )
    print_table(
        "results",
        [
            ("accepted (202)", accepted),
            ("errors", len(errors)),
            ("accepted/s", accepted / send_time),
            *zip(LATENCY_ROWS, latency_summary(latencies), strict=True),
            ("CPU while sending %: server", server),
            ("  sender (this process)", sender),
            ("  whole machine (2 cores = 200)", machine),
            ("backlog when sending ended", backlog),
            ("processed (done)", measured_done),
            ("processing errors", item_errors),
            ("processed/s (from first send)", rate),
            ("catch-up after sending s", max(0.0, last - t1) if caught_up and last else "no"),
            ("server CPU until caught up s", cpu2[0] - cpu0[0]),
        ],
    )
    for status, body in errors[:3]:
        print(f"  error: {status} {body!r}")
    p50, _, p99, _ = latency_summary(latencies)
    return accepted / send_time, p50, p99, rate


async def compare(args: argparse.Namespace) -> None:
    """Each --synchronous value in turn, `--rounds` times alternating (the machine's load
    drifts), then the figures side by side with each value's median."""
    values = args.synchronous.split(",")
    figures = [(value, await run(args, value)) for _ in range(args.rounds) for value in values]
    if len(figures) < 2:
        return
    rows: list[tuple[str, object]] = [
        (value, "  ".join(f"{f:,.1f}" for f in row)) for value, row in figures
    ]
    for value in values:
        runs = [row for name, row in figures if name == value]
        medians = (statistics.median(column) for column in zip(*runs, strict=True))
        rows.append((f"{value} median", "  ".join(f"{f:,.1f}" for f in medians)))
    print_table("synchronous compared: accepted/s, p50 ms, p99 ms, processed/s", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--senders", type=int, default=64)
    parser.add_argument("--activities", type=int, default=5000)
    parser.add_argument("--actors", type=int, default=100)
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument(
        "--rate",
        type=float,
        help="open loop: send this many activities per second (raw client) instead of as fast"
        " as the senders can",
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="web app with --no-workers plus one `ourdesign worker` process, instead of `serve`",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="wait for processing, s")
    parser.add_argument(
        "--synchronous",
        default="full",
        help="SQLite's synchronous setting, or several separated by commas to compare them",
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat the comparison")
    asyncio.run(compare(parser.parse_args()))


if __name__ == "__main__":
    main()
