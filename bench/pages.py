"""HTML pages: the design version page and the home page, with 10,000 designs stored.

    python bench/pages.py --db sqlite|postgresql [--designs 10000] [--requests 1000]
                          [--clients 8] [--seconds 10]

The database is migrated and seeded directly (Core executemany): 60 remote actors on 12
hosts, a local maker, and `--designs` design projects (70 % local, 30 % remote, each an
actor, a project and one version with three files: a PNG preview, an STL and a PDF); one
local design in five is a fork of an earlier one (version and project upstream, a `forks`
row, the upstream's count); one local version in three has 1 to 12 comments by remote
actors, a third of them replies to an earlier comment; half the STL files have a made
thumbnail. The instance then runs under uvicorn in a child process, and HTML pages are
requested over raw keep-alive connections: first by one client, one request at a time,
version pages then home pages (the latency is then the server's time plus a loopback round
trip; the server's CPU time per request is printed too, which other load on the machine
hardly changes), then both kinds by `--clients` clients at once for `--seconds`. Version
pages are picked at random among the local ones.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

# The project root goes first: bench/inbox.py would shadow the `inbox` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.models import Actor
from bench.common import (
    BATCH,
    EPOCH,
    actor_row,
    bulk,
    child,
    cpu_snapshot,
    free_port,
    latency_summary,
    load_note,
    print_table,
    raw_exchange,
    server_env,
    temp_database,
    wait_ready,
)
from federation.queue import DONE
from federation.settings import Settings
from federation.urls import LocalUrls
from federation.vocab import PUBLIC
from objects.design_models import (
    PROJECT_ACTOR_TYPE,
    DesignVersion,
    Fork,
    Project,
    ProjectMaintainer,
    VersionFile,
)
from objects.models import Note
from objects.thumbnail_models import ThumbnailJob
from web.schema import migrate

REMOTE_ACTORS, REMOTE_HOSTS = 60, 12
LICENCES = ("PPL", "PPL", "PPL", "CC-BY-SA-4.0", "CC-BY-4.0", "CERN-OHL-S-2.0", "MIT")
TAGS = ("trailer", "bicycle", "printing", "furniture", "tools", "garden", "kitchen", "toys")


async def ids_by_uri(conn: AsyncConnection, column: Any, uris: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(uris), BATCH):
        chunk = uris[start : start + BATCH]
        table = column.class_
        rows = await conn.execute(select(column, table.id).where(column.in_(chunk)))
        found.update({uri: row_id for uri, row_id in rows.all()})
    return found


def project_actor(n: int, urls: LocalUrls, local: bool) -> dict[str, Any]:
    if local:
        return actor_row(
            urls.actor(f"design{n}"),
            f"design{n}",
            urls.host,
            kind=PROJECT_ACTOR_TYPE,
            local=True,
            name=f"Design {n}",
        )
    host = f"h{n % REMOTE_HOSTS}.remote.test"
    return actor_row(
        f"https://{host}/users/design{n}",
        f"design{n}",
        host,
        kind=PROJECT_ACTOR_TYPE,
        local=False,
        name=f"Remote design {n}",
        entity_kind="unknown",
    )


def version_row(
    n: int, project_id: int, uri: str, local: bool, rng: random.Random
) -> dict[str, Any]:
    licence = rng.choice(LICENCES)
    tags = rng.sample(TAGS, 2)
    return {
        "uri": uri,
        "project_id": project_id,
        "local": local,
        "number": 1,
        "label": "1.0",
        "name": f"Design {n}: a {tags[0]} part",
        "summary": "A part that prints without supports.",
        "source": f"Design {n}. Print it in *PETG*, 0.2 mm layers.",
        "content": f"<p>Design {n}. Print it in <em>PETG</em>, 0.2 mm layers.</p>",
        "tags": {"tags": tags},
        "licence": {"terms": licence},
        "licence_text": licence,
        "authors": {"authors": []},
        "credits": {"credits": []},
        "upstream_uri": None,
        "published": EPOCH + dt.timedelta(minutes=n),
        "replies_count": 0,
    }


def file_rows(version_id: int, n: int, local: bool, base: str) -> list[dict[str, Any]]:
    files = [
        ("photo.png", "image/png", True),
        ("part.stl", "model/stl", False),
        ("instructions.pdf", "application/pdf", False),
    ]
    return [
        {
            "version_id": version_id,
            "position": position,
            "filename": name,
            "media_type": media_type,
            "size": 20_000 * (position + 1) + n,
            "sha256": f"{n:032x}{position:032x}",
            "preview": preview,
            "remote_url": None if local else f"{base}/files/{n:032x}{position:032x}/{name}",
        }
        for position, (name, media_type, preview) in enumerate(files)
    ]


async def seed(url: str, settings: Settings, designs: int) -> tuple[list[str], dict[str, int]]:
    """Migrate and seed; the paths of the local version pages and counts of what was made."""
    engine = create_async_engine(url)
    urls = LocalUrls(f"{settings.scheme}://{settings.domain}")
    rng = random.Random(5)
    made: dict[str, int] = {}
    try:
        await migrate(engine, settings)
        local = [rng.random() < 0.7 for _ in range(designs)]
        async with engine.begin() as conn:
            people = [actor_row(urls.actor("maker"), "maker", urls.host, local=True)]
            people += [
                actor_row(
                    f"https://h{n % REMOTE_HOSTS}.remote.test/users/r{n}",
                    f"r{n}",
                    f"h{n % REMOTE_HOSTS}.remote.test",
                    local=False,
                    entity_kind="unknown",
                )
                for n in range(REMOTE_ACTORS)
            ]
            projects = [project_actor(n, urls, local[n]) for n in range(designs)]
            await bulk(conn, Actor, people + projects)
            actor_ids = await ids_by_uri(conn, Actor.uri, [row["uri"] for row in people + projects])
            maker_id = actor_ids[urls.actor("maker")]
            commenters = [actor_ids[row["uri"]] for row in people[1:]]
            await seed_designs(conn, rng, projects, local, actor_ids, maker_id, commenters, made)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
        pages = [f"/users/design{n}/versions/1" for n in range(designs) if local[n]]
    finally:
        await engine.dispose()
    return pages, made


async def seed_designs(
    conn: AsyncConnection,
    rng: random.Random,
    projects: list[dict[str, Any]],
    local: list[bool],
    actor_ids: dict[str, int],
    maker_id: int,
    commenters: list[int],
    made: dict[str, int],
) -> None:
    vuris = [f"{row['uri']}/versions/1" for row in projects]
    # Forks: a local design in five comes from an earlier design (local or remote).
    upstream = {
        n: rng.randrange(n) for n in range(1, len(projects)) if local[n] and rng.random() < 0.2
    }
    forks_count = [0] * len(projects)
    for up in upstream.values():
        forks_count[up] += 1
    await bulk(
        conn,
        Project,
        [
            {
                "actor_id": actor_ids[row["uri"]],
                "local": local[n],
                "tags": {"tags": []},
                "upstream_uri": vuris[upstream[n]] if n in upstream else None,
                "latest_version_uri": vuris[n],
                "versions_count": 1,
                "forks_count": forks_count[n],
                "created_at": EPOCH,
            }
            for n, row in enumerate(projects)
        ],
    )
    rows = await conn.execute(select(Project.actor_id, Project.id))
    project_by_actor = dict(rows.all())
    pids = [project_by_actor[actor_ids[row["uri"]]] for row in projects]
    await bulk(
        conn,
        ProjectMaintainer,
        [{"project_id": pid, "actor_id": maker_id} for n, pid in enumerate(pids) if local[n]],
    )
    versions = [version_row(n, pids[n], vuris[n], local[n], rng) for n in range(len(projects))]
    first_local = next(row for n, row in enumerate(projects) if local[n])
    maker_uri = first_local["uri"].split("/users/")[0] + "/users/maker"
    for n in range(len(projects)):
        if local[n]:
            versions[n]["authors"] = {"authors": [maker_uri]}
    for n, up in upstream.items():
        # A fork credits its upstream's authors (the remote ones were never fetched here).
        versions[n]["credits"] = {
            "credits": versions[up]["authors"]["authors"] or [projects[up]["uri"]]
        }
        versions[n]["upstream_uri"] = vuris[up]
        versions[n]["licence"] = versions[up]["licence"]
        versions[n]["licence_text"] = versions[up]["licence_text"]
    await bulk(conn, DesignVersion, versions)
    version_ids = await ids_by_uri(conn, DesignVersion.uri, vuris)
    files = [
        row
        for n, project in enumerate(projects)
        for row in file_rows(version_ids[vuris[n]], n, local[n], project["uri"].split("/users/")[0])
    ]
    await bulk(conn, VersionFile, files)
    await bulk(
        conn,
        Fork,
        [
            {
                "upstream_uri": vuris[up],
                "upstream_project_uri": projects[up]["uri"],
                "fork_uri": vuris[n],
                "fork_project_uri": projects[n]["uri"],
                "created_at": EPOCH,
            }
            for n, up in upstream.items()
        ],
    )
    thumbnails = [
        {
            "source_sha256": f"{n:032x}{1:032x}",
            "file_name": "part.stl",
            "thumbnail_sha256": f"{n:032x}{9:032x}",
            "state": DONE,
            "next_attempt_at": EPOCH,
        }
        for n in range(0, len(projects), 2)
    ]
    await bulk(conn, ThumbnailJob, thumbnails)
    notes = comment_rows(rng, [vuris[n] for n in range(len(projects)) if local[n]], commenters)
    await bulk(conn, Note, notes)
    made.update(
        designs=len(projects),
        local=sum(local),
        forks=len(upstream),
        files=len(files),
        comments=len(notes),
        thumbnails=len(thumbnails),
    )


def comment_rows(
    rng: random.Random, versions: list[str], commenters: list[int]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for version in versions:
        if rng.random() >= 1 / 3:
            continue
        thread: list[str] = []
        for k in range(rng.randint(1, 12)):
            uri = f"{version}/comments/{k}"
            parent = rng.choice(thread) if thread and rng.random() < 1 / 3 else version
            rows.append(
                {
                    "uri": uri,
                    "actor_id": rng.choice(commenters),
                    "in_reply_to": parent,
                    "content": f'<p>Printed it, works well ({k}). <a href="{version}">link</a></p>',
                    "visibility": "public",
                    "to": {"to": [PUBLIC], "cc": []},
                    "published": EPOCH + dt.timedelta(days=1, minutes=k),
                }
            )
            thread.append(uri)
    return rows


def request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/html\r\n\r\n".encode()


async def drive(
    port: int,
    pages: list[str],
    clients: int,
    *,
    seconds: float,
    requests: int,
    kinds: tuple[str, ...] = ("version", "home"),
) -> tuple[list[tuple[str, float, int]], float]:
    """`clients` keep-alive connections, each asking in turn for `kinds` of page (a random
    version page, the home page), until `requests` were made or `seconds` passed; (kind,
    seconds, status) of each request, and the time spent."""
    results: list[tuple[str, float, int]] = []
    began = time.perf_counter()
    deadline = began + seconds

    async def client(n: int) -> None:
        rng = random.Random(n)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        turn = 0
        while time.perf_counter() < deadline and len(results) < requests:
            turn += 1
            kind = kinds[turn % len(kinds)]
            path = rng.choice(pages) if kind == "version" else "/"
            start = time.perf_counter()
            status, _ = await raw_exchange(reader, writer, request(path))
            results.append((kind, time.perf_counter() - start, status))
        writer.close()

    async with asyncio.timeout(seconds + 120):
        await asyncio.gather(*(client(n) for n in range(clients)))
    return results, time.perf_counter() - began


def result_rows(results: list[tuple[str, float, int]], spent: float) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [
        ("requests", len(results)),
        ("requests/s", len(results) / spent),
        ("errors (not 200)", sum(1 for _, _, status in results if status != 200)),
    ]
    for kind in sorted({k for k, _, _ in results}, reverse=True):
        ms = sorted(lat * 1000 for k, lat, status in results if k == kind and status == 200)
        statuses = sorted({status for k, _, status in results if k == kind})
        rows.append((f"{kind}: statuses", statuses))
        rows.append(
            ("  p50 / p90 / p99 / max ms", " / ".join(f"{v:.1f}" for v in latency_summary(ms)))
        )
    return rows


async def run(args: argparse.Namespace) -> None:
    port = free_port()
    async with temp_database(args.db) as (url, data_dir):
        settings = Settings(
            domain=f"127.0.0.1:{port}", scheme="http", data_dir=data_dir, database_url=url
        )
        started = time.perf_counter()
        pages, made = await seed(url, settings, args.designs)
        print(f"seeded {made} in {time.perf_counter() - started:.1f}s")
        with child("serve", str(port), env=server_env(port, data_dir, url)) as server:
            await wait_ready(f"http://127.0.0.1:{port}/.well-known/nodeinfo", server)
            await drive(port, pages, 2, seconds=2.0, requests=400)  # warm-up
            load = load_note()
            for kind in ("version", "home"):
                cpu0 = cpu_snapshot(server.pid)
                sequential, spent = await drive(
                    port, pages, 1, seconds=args.seconds * 3, requests=args.requests, kinds=(kind,)
                )
                cpu = (cpu_snapshot(server.pid)[0] - cpu0[0]) / max(1, len(sequential))
                rows = [*result_rows(sequential, spent), ("server CPU ms per request", cpu * 1000)]
                print_table(f"{kind} pages, one client, one request at a time ({load})", rows)
            cpu0 = cpu_snapshot(server.pid)
            concurrent, spent = await drive(
                port, pages, args.clients, seconds=args.seconds, requests=10**9
            )
            cpu1 = cpu_snapshot(server.pid)
            server_cpu = 100 * (cpu1[0] - cpu0[0]) / spent
            rows = [*result_rows(concurrent, spent), ("CPU %: server", server_cpu)]
            print_table(f"both kinds, {args.clients} clients for {args.seconds:.0f}s", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--designs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=1_000, help="sequential, per kind")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
