"""Mastodon API reads: home and public timelines of a real server with 100,000 statuses.

    python bench/api.py --db sqlite|postgresql [--statuses 100000] [--clients 32] [--seconds 20]

The database is migrated and seeded directly (Core executemany in large chunks): 200 remote
actors, 50 local people, `--statuses` notes spread over them, newest last; the bench user
follows 100 remote actors and 10 local people and has an API token. Then the instance runs
under uvicorn in a child process and `--clients` keep-alive connections send, in turn, GET
/api/v1/timelines/home (with the token), /api/v1/timelines/public, ?local=true, and the next
page of an earlier answer (max_id from its Link header). Prints requests/s and latencies per
endpoint. Everything stays on 127.0.0.1.

Timeline answers are cached until a write changes them (web/answer_cache.py). With no
writes nearly every read is a hit, so `--posts-per-second N` has the bench user post while
the readers read, each post invalidating the cache, and `--no-cache` measures every read
built from the database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

# Run as `python bench/api.py`, this folder heads sys.path, and bench/inbox.py would shadow the
# project's `inbox` package; the project root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.service import create_person, create_token
from bench.common import (
    actor_row,
    child,
    cpu_snapshot,
    free_port,
    latency_summary,
    load_note,
    print_table,
    raw_exchange_with_head,
    server_env,
    temp_database,
    wait_ready,
)
from federation.settings import Settings
from federation.urls import LocalUrls
from federation.vocab import PUBLIC
from objects.models import Note
from web.schema import migrate

USER = "reader"
CHUNK = 10_000
REMOTE, LOCAL, FOLLOWED_REMOTE, FOLLOWED_LOCAL = 200, 50, 100, 10
# Visibility of the notes: mostly public.
VISIBILITY = (("public", 85), ("unlisted", 8), ("followers", 5), ("direct", 2))
NEXT_RE = re.compile(rb'<http://[^/]+(/[^>]*)>; rel="next"')


def local_actors(urls: LocalUrls, pem: str) -> list[dict[str, Any]]:
    """The other local people (no account, no private key needed)."""
    return [
        actor_row(urls.actor(f"p{n}"), f"p{n}", urls.host, local=True, name=f"Person {n}", pem=pem)
        for n in range(1, LOCAL)
    ]


def remote_actors(pem: str) -> list[dict[str, Any]]:
    return [
        actor_row(
            f"https://h{n % 20}.remote.test/users/r{n}",
            f"r{n}",
            f"h{n % 20}.remote.test",
            local=False,
            name=f"Remote {n}",
            pem=pem,
            entity_kind="unknown",
        )
        for n in range(REMOTE)
    ]


async def seed(url: str, settings: Settings, statuses: int) -> tuple[str, dict[str, int]]:
    """Migrate, then seed; the bench user's token and counts of what was made."""
    engine = create_async_engine(url)
    urls = LocalUrls(f"{settings.scheme}://{settings.domain}")
    rng = random.Random(1)
    try:
        await migrate(engine, settings)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session:
            me = await create_person(
                session, urls, username=USER, email="reader@bench.test", password="benchmark"
            )
            token = await create_token(session, me, "bench")
            await session.commit()
        pem = me.public_key_pem
        actors = local_actors(urls, pem) + remote_actors(pem)
        async with engine.begin() as conn:
            await conn.execute(insert(Actor), actors)
            rows = (await conn.execute(select(Actor.id, Actor.uri, Actor.local))).all()
        authors = [(i, u, loc) for i, u, loc in rows if u != urls.instance_actor]
        remote = [row for row in authors if not row[2]]
        local = [row for row in authors if row[2] and row[0] != me.id]
        followed = rng.sample(remote, FOLLOWED_REMOTE) + rng.sample(local, FOLLOWED_LOCAL)
        async with engine.begin() as conn:
            await conn.execute(
                insert(Follow),
                [
                    {
                        "uri": f"{urls.actor(USER)}/follows/{n}",
                        "follower_id": me.id,
                        "followee_id": actor_id,
                        "state": FOLLOW_ACCEPTED,
                    }
                    for n, (actor_id, _, _) in enumerate(followed)
                ],
            )
        # Notes: ids follow time (one every ~30 s, ending now), authors at random.
        kinds = [kind for kind, weight in VISIBILITY for _ in range(weight)]
        start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30 * statuses)
        for first in range(0, statuses, CHUNK):
            chunk = []
            for n in range(first, min(statuses, first + CHUNK)):
                actor_id, actor_uri, is_local = rng.choice(authors)
                visibility = rng.choice(kinds)
                to = [PUBLIC] if visibility == "public" else [f"{actor_uri}/followers"]
                uri = f"{actor_uri}/notes/{n}"
                chunk.append(
                    {
                        "uri": uri,
                        "actor_id": actor_id,
                        "local": is_local,
                        "url": uri,
                        "content": f"<p>Note {n}: a design for a bicycle trailer, revision"
                        f" {n % 17}, with a longer hitch and a lighter frame.</p>",
                        "visibility": visibility,
                        "to": {"to": to, "cc": []},
                        "published": start + dt.timedelta(seconds=30 * n + rng.random()),
                    }
                )
            async with engine.begin() as conn:
                await conn.execute(insert(Note), chunk)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                # As autovacuum leaves a settled database: statistics, and a visibility map
                # that lets counts read indexes only.
                await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
    made = {"local people": LOCAL, "remote actors": REMOTE, "follows": len(followed)}
    return token, made | {"notes": statuses}


def request(path: str, token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}\r\n".encode()


KINDS = ("home", "public", "home page", "public local", "home", "public page")


async def drive(
    port: int,
    token: str,
    clients: int,
    seconds: float,
    limit: int,
    posts_per_second: float = 0.0,
) -> tuple[list[tuple[str, float, int, bytes]], float]:
    """`clients` keep-alive connections cycling through KINDS for `seconds`; (kind, latency s,
    status, body start) for each request, and the time spent. A "page" request follows the
    next link of that client's previous answer of the same timeline."""
    results: list[tuple[str, float, int, bytes]] = []
    began = time.perf_counter()
    deadline = began + seconds
    first = {
        "home": f"/api/v1/timelines/home?limit={limit}",
        "public": f"/api/v1/timelines/public?limit={limit}",
    }

    async def client(n: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        following = dict(first)
        turn = n
        while time.perf_counter() < deadline:
            turn += 1
            kind = KINDS[turn % len(KINDS)]
            timeline = kind.split()[0]
            auth = token if timeline == "home" else None
            if kind.endswith("page"):
                path = following[timeline]
            elif kind == "public local":
                path = f"/api/v1/timelines/public?local=true&limit={limit}"
            else:
                path = first[timeline]
            start = time.perf_counter()
            try:
                status, head, body = await raw_exchange_with_head(
                    reader, writer, request(path, auth)
                )
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                status, head, body = 0, b"", repr(exc).encode()
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            results.append((kind, time.perf_counter() - start, status, body[:200]))
            if status == 200 and kind != "public local":
                found = NEXT_RE.search(head)
                # At the end of a timeline (no link), start again from the newest.
                following[timeline] = found.group(1).decode() if found else first[timeline]
        writer.close()

    async def writer_client() -> None:
        """Posts `posts_per_second` statuses as the bench user: each one makes every kept
        timeline answer stale, as a busy instance's traffic would."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            start = time.perf_counter()
            status, _, body = await raw_exchange_with_head(reader, writer, post(n, token))
            results.append(("post", time.perf_counter() - start, status, body[:200]))
            await asyncio.sleep(max(0.0, start + 1 / posts_per_second - time.perf_counter()))
        writer.close()

    tasks = [client(n) for n in range(clients)]
    if posts_per_second > 0:
        tasks.append(writer_client())
    async with asyncio.timeout(seconds + 120):
        await asyncio.gather(*tasks)
    return results, time.perf_counter() - began


def post(n: int, token: str) -> bytes:
    body = f"status=Bench+post+{n}".encode()
    head = (
        f"POST /api/v1/statuses HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def latency_rows(name: str, values: list[float], spent: float) -> list[tuple[str, object]]:
    ms = sorted(v * 1000 for v in values)
    return [
        (f"{name}: requests", len(ms)),
        ("  requests/s", len(ms) / spent),
        (
            "  p50 / p90 / p99 / max ms",
            " / ".join(f"{value:.1f}" for value in latency_summary(ms)),
        ),
    ]


async def run(args: argparse.Namespace) -> None:
    port = free_port()
    async with temp_database(args.db) as (url, data_dir):
        settings = Settings(
            domain=f"127.0.0.1:{port}", scheme="http", data_dir=data_dir, database_url=url
        )
        started = time.perf_counter()
        token, made = await seed(url, settings, args.statuses)
        seeding = time.perf_counter() - started
        print(f"seeded {made} in {seeding:.1f}s")
        env = server_env(port, data_dir, url)
        if args.no_cache:
            env["OURDESIGN_ANSWER_CACHE_SECONDS"] = "0"
        with child("serve", str(port), env=env) as server:
            await wait_ready(f"http://127.0.0.1:{port}/.well-known/nodeinfo", server)
            await drive(port, token, min(args.clients, 4), 1.0, args.limit)  # warm-up
            if args.profile:
                print(f"server pid {server.pid} (profile it now)")
            load, cpu0 = load_note(), cpu_snapshot(server.pid)
            results, spent = await drive(
                port, token, args.clients, args.seconds, args.limit, args.posts_per_second
            )
            cpu1 = cpu_snapshot(server.pid)

    errors = [(kind, status, body) for kind, _, status, body in results if status != 200]
    server_cpu, client_cpu, machine = (
        100 * (after - before) / spent for before, after in zip(cpu0, cpu1, strict=True)
    )
    print_table(
        "settings",
        [
            (
                "run",
                f"--db {args.db} --statuses {args.statuses} --clients {args.clients}"
                f" --seconds {args.seconds} --limit {args.limit}"
                + (" --no-cache" if args.no_cache else "")
                + f" --posts-per-second {args.posts_per_second}",
            ),
            ("seeding s", seeding),
            ("machine before the run", load),
        ],
    )
    reads = [row for row in results if row[0] != "post"]
    rows: list[tuple[str, object]] = [
        ("requests (reads)", len(reads)),
        ("errors", len(errors)),
        ("requests/s (reads)", len(reads) / spent),
    ]
    rows += latency_rows("all reads", [lat for _, lat, _, _ in reads], spent)
    for kind in ("home", "home page", "public", "public page", "public local", "post"):
        latencies = [lat for k, lat, _, _ in results if k == kind]
        if latencies:
            rows += latency_rows(kind, latencies, spent)
    rows += [
        ("CPU %: server", server_cpu),
        ("  clients (this process)", client_cpu),
        (f"  whole machine ({os.cpu_count()} cores)", machine),
    ]
    print_table("results", rows)
    for kind, status, body in errors[:3]:
        print(f"  error: {kind} {status} {body!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--statuses", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--limit", type=int, default=20, help="statuses per page")
    parser.add_argument("--profile", action="store_true", help="print the server's pid")
    parser.add_argument(
        "--posts-per-second",
        type=float,
        default=0.0,
        help="the bench user also posts this many statuses a second (each one invalidates"
        " the answer cache)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="turn the answer cache off: every request reads"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
