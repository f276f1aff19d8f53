"""Designs at scale: the read paths of a big project, and lineage over a long fork chain.

    python bench/designs.py --db sqlite|postgresql [--requests 300] [--runs 100] [--explain]

Read path: one project with 10,000 versions (two files each), 100,000 comments (Notes replying
to versions: 20,000 on one "heavy" version, spread over all the time after it; the rest over
the other versions with a Zipf-like tail, version 1 the most popular, each thread a burst
soon after its version, so that note ids follow time as on a live server), one Create per
version in the project's outbox and, after those, 100,000 activities of another local actor
in the same table. All inserted in bulk (Core executemany). Then, in-process (httpx over
ASGITransport, the app inside its lifespan, no workers), `--requests` sequential GETs each
of: the project actor, a version (random number), outbox page 1 and page 500, replies page 1
and page 500 of the heavy version, replies page 1 and the last page of version 1. Keyset
cursors for deep pages are read from the database (the last id of the page before), the way
the routes hand them out.

Lineage: 1,000 projects forked one from the other, then `objects.lineage.ancestors` from the
deepest version and `descendants` of the root project, `--runs` times each, and the HTTP
`GET /api/v1/lineage?version=...` when that route exists.

Prints p50/p90/p99/max in ms, the statements per request and their time (from a separate
pass of 20 requests), and with `--explain` the plan of every statement each endpoint runs
(EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite). `--try-index` creates extra
indexes in the throw-away database, to measure a proposed index. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

# The project root goes first: bench/inbox.py would shadow the `inbox` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.models import Actor
from actors.service import new_local_actor
from bench.common import (
    EPOCH,
    actor_row,
    bulk,
    latency_summary,
    load_note,
    print_table,
    temp_database,
)
from federation.settings import Settings
from federation.vocab import PUBLIC
from objects import lineage
from objects.design_convert import version_to_as
from objects.design_models import (
    PROJECT_ACTOR_TYPE,
    DesignVersion,
    Fork,
    Project,
    ProjectMaintainer,
    VersionFile,
)
from objects.models import Note
from outbox.collections import LISTED_TYPES
from outbox.designs import version_activity
from outbox.models import OutboxActivity
from web.app import create_app
from web.http import PAGE_SIZE
from web.instance import Instance

AP_JSON = {"Accept": "application/activity+json"}
LICENCE = "CC-BY-SA-4.0"


@dataclass
class ReadData:
    slug: str
    versions: int
    heavy: int  # the version number with the most comments
    outbox_cursor: int  # max_id that yields outbox page --page
    replies_cursor: int  # min_id that yields replies page --page of the heavy version
    popular: int  # the version with the most comments after the heavy one (version 1)
    popular_pages: int  # the pages a client walks through its replies (the last one short)
    popular_cursor: int  # min_id of that last page
    counts: dict[str, object] = field(default_factory=dict)


@dataclass
class LineageData:
    deepest_version: str
    root_project: str


# --- data generation ---------------------------------------------------------------------


def published(number: int) -> dt.datetime:
    """Version n of a project is published n hours after the epoch."""
    return EPOCH + dt.timedelta(hours=number)


def version_row(project_id: int, uri: str, number: int, maker: str) -> dict[str, Any]:
    return {
        "uri": uri,
        "project_id": project_id,
        "local": True,
        "number": number,
        "label": f"1.{number}",
        "name": f"Bicycle trailer, revision {number}",
        "summary": "A cargo trailer for bicycles, welded from 20 mm steel tube.",
        "source": f"Revision {number}: *stronger* hitch, longer drawbar.",
        "content": f"<p>Revision {number}: <em>stronger</em> hitch, longer drawbar.</p>",
        "tags": {"tags": ["trailer", "bicycle", "cargo"]},
        "licence": {"terms": LICENCE},
        "licence_text": LICENCE,
        "authors": {"authors": [maker]},
        "credits": {"credits": []},
        "upstream_uri": None,
        "published": published(number),
        "edited_at": None,
        "deleted_at": None,
        "replies_count": 0,
        "document": None,
    }


def file_rows(version_id: int, number: int) -> list[dict[str, Any]]:
    return [
        {
            "version_id": version_id,
            "position": position,
            "filename": filename,
            "media_type": media_type,
            "size": 10_000 * (position + 1) + number,
            "sha256": f"{number:032x}{position:032x}",
            "preview": position == 0,
            "remote_url": None,
        }
        for position, (filename, media_type) in enumerate(
            [("preview.png", "image/png"), ("frame.stl", "model/stl")]
        )
    ]


async def seed_read(
    instance: Instance,
    versions: int,
    comments: int,
    heavy_comments: int,
    deep_page: int,
    other_outbox: int = 0,
) -> ReadData:
    urls, engine = instance.urls, instance.engine
    rng = random.Random(1)
    slug = "trailer"
    async with instance.sessions() as session:
        maker = new_local_actor(urls, "maker")
        project_actor = new_local_actor(urls, slug, actor_type=PROJECT_ACTOR_TYPE)
        project_actor.name = "Bicycle trailer"
        session.add_all([maker, project_actor])
        await session.flush()
        project = Project(actor_id=project_actor.id, local=True, tags={"tags": ["trailer"]})
        session.add(project)
        await session.flush()
        session.add(ProjectMaintainer(project_id=project.id, actor_id=maker.id))
        await session.commit()
    vuri = [f"{project_actor.uri}/versions/{n}" for n in range(1, versions + 1)]
    heavy = versions // 2

    # Comments: `heavy_comments` on one version, the rest over the others with weight 1/rank
    # (rank: a random order of versions, except that version 1, the first release, is the most
    # popular). Ids follow time, as they do on a live server: a comment on version n comes
    # after it, most within a day or so (a burst per thread); the heavy version's comments are
    # spread evenly over all the time after it was published.
    others = [n for n in range(2, versions + 1) if n != heavy]
    rng.shuffle(others)
    others.insert(0, 1)
    targets = [heavy] * heavy_comments + rng.choices(
        others, weights=[1 / (rank + 1) for rank in range(len(others))], k=comments - heavy_comments
    )
    hour = 3600.0
    timeline = sorted(
        (
            published(target).timestamp()
            + (
                rng.uniform(0, (versions - target) * hour)
                if target == heavy
                else rng.expovariate(1 / (12 * hour))
            ),
            target,
        )
        for target in targets
    )
    per_version = Counter(targets)
    popular = max((n for n in per_version if n != heavy), key=lambda n: per_version[n])

    commenters = [
        actor_row(f"https://c{k}.remote.test/users/c{k}", f"c{k}", f"c{k}.remote.test",
                  kind="Person", local=False)
        for k in range(200)
    ]  # fmt: skip
    async with engine.begin() as conn:
        await bulk(conn, Actor, commenters)
        commenter_ids = list(
            await conn.scalars(select(Actor.id).where(Actor.domain.like("%.remote.test")))
        )
        rows = [version_row(project.id, vuri[n - 1], n, maker.uri) for n in range(1, versions + 1)]
        for row in rows:
            row["replies_count"] = per_version[row["number"]]
        await bulk(conn, DesignVersion, rows)
        ids = dict(
            (
                await conn.execute(
                    select(DesignVersion.number, DesignVersion.id).where(
                        DesignVersion.project_id == project.id
                    )
                )
            ).all()
        )
        files = [f for n in range(1, versions + 1) for f in file_rows(ids[n], n)]
        await bulk(conn, VersionFile, files)
        await conn.execute(
            Project.__table__.update()
            .where(Project.__table__.c.id == project.id)
            .values(versions_count=versions, latest_version_uri=vuri[-1])
        )

        # One Create(Page) per version, built by the code that publishes versions.
        outbox = []
        for row, number in zip(rows, range(1, versions + 1), strict=True):
            version = DesignVersion(**row)
            vfiles = [VersionFile(**f) for f in file_rows(ids[number], number)]
            page = version_to_as(
                version, project_actor, vfiles, instance.policy, urls.base_url, with_context=False
            )
            activity = version_activity(urls, project_actor, page)
            outbox.append(
                {
                    "uri": activity["id"],
                    "actor_id": project_actor.id,
                    "type": "Create",
                    "object_uri": page["id"],
                    "public": True,
                    "payload": activity,
                    "published": row["published"],
                }
            )
        await bulk(conn, OutboxActivity, outbox)
        # Later, the maker's own activities (90 % Likes, which the outbox does not list) share
        # the table: the project's rows are then the oldest, as on a busy server.
        last = published(versions)
        await bulk(
            conn,
            OutboxActivity,
            [
                {
                    "uri": f"{urls.base_url}/activities/m{i}",
                    "actor_id": maker.id,
                    "type": "Create" if i % 10 == 0 else "Like",
                    "object_uri": f"https://c{i % 200}.remote.test/notes/{i}",
                    "public": True,
                    "payload": {"type": "Create" if i % 10 == 0 else "Like", "n": i},
                    "published": last + dt.timedelta(seconds=i),
                }
                for i in range(other_outbox)
            ],
        )

        notes = [
            {
                "uri": f"https://c{i % 200}.remote.test/notes/{i}",
                "actor_id": commenter_ids[i % len(commenter_ids)],
                "local": False,
                "url": None,
                "in_reply_to": vuri[target - 1],
                "content": f"<p>Comment {i}: which tube diameter did you use for the hitch?</p>",
                "summary": None,
                "sensitive": False,
                "language": "en",
                "visibility": "public",
                "to": {"to": [PUBLIC], "cc": []},
                "license": "NOASSERTION",
                "published": dt.datetime.fromtimestamp(moment, dt.UTC),
                "edited_at": None,
                "deleted_at": None,
                "replies_count": 0,
                "likes_count": 0,
                "announces_count": 0,
                "document": None,
            }
            for i, (moment, target) in enumerate(timeline)
        ]
        await bulk(conn, Note, notes)

    # The keyset cursors as the routes hand them out: the last id of the page before.
    page_offset = (deep_page - 1) * PAGE_SIZE - 1
    async with engine.connect() as conn:
        outbox_cursor = await conn.scalar(
            select(OutboxActivity.id)
            .where(
                OutboxActivity.actor_id == project_actor.id,
                OutboxActivity.public.is_(True),
                OutboxActivity.type.in_(LISTED_TYPES),
            )
            .order_by(OutboxActivity.id.desc())
            .offset(page_offset)
            .limit(1)
        )
        replies_cursor = await conn.scalar(
            select(Note.id)
            .where(Note.in_reply_to == vuri[heavy - 1], Note.deleted_at.is_(None))
            .order_by(Note.id)
            .offset(page_offset)
            .limit(1)
        )
        # The last page a client reaches by following `next` (short, or empty after a full one).
        popular_pages = per_version[popular] // PAGE_SIZE + 1
        popular_cursor = await conn.scalar(
            select(Note.id)
            .where(Note.in_reply_to == vuri[popular - 1], Note.deleted_at.is_(None))
            .order_by(Note.id)
            .offset((popular_pages - 1) * PAGE_SIZE - 1)
            .limit(1)
        )
        popular_ids = (
            await conn.execute(
                select(func.min(Note.id), func.max(Note.id)).where(
                    Note.in_reply_to == vuri[popular - 1]
                )
            )
        ).one()
    assert outbox_cursor is not None and replies_cursor is not None and popular_cursor is not None
    return ReadData(
        slug=slug,
        versions=versions,
        heavy=heavy,
        outbox_cursor=outbox_cursor,
        replies_cursor=replies_cursor,
        popular=popular,
        popular_pages=popular_pages,
        popular_cursor=popular_cursor,
        counts={
            "versions": versions,
            "version files": len(files),
            "comments": len(notes),
            "comments on the heavy version": per_version[heavy],
            f"most on another version (v{popular})": per_version[popular],
            f"  their note ids (of {len(notes)})": f"{popular_ids[0]}..{popular_ids[1]}",
            "versions without comments": versions - len(per_version),
            "outbox rows of the project": len(outbox),
            "  later outbox rows of another actor": other_outbox,
        },
    )


async def seed_lineage(instance: Instance, depth: int) -> LineageData:
    """`depth` projects, each forked from the one before: version 1 of fork{i} has as its
    upstream version 1 of fork{i-1}; Project.upstream_uri and a Fork row say the same."""
    urls = instance.urls
    names = [f"fork{i}" for i in range(depth)]
    actor_uris = [urls.actor(name) for name in names]
    vuris = [f"{uri}/versions/1" for uri in actor_uris]
    async with instance.engine.begin() as conn:
        maker_id = await conn.scalar(select(Actor.id).where(Actor.username == "maker"))
        maker_uri = urls.actor("maker")
        await bulk(
            conn,
            Actor,
            [
                actor_row(uri, name, urls.host, kind=PROJECT_ACTOR_TYPE, local=True)
                for uri, name in zip(actor_uris, names, strict=True)
            ],
        )
        actor_ids = dict(
            (await conn.execute(select(Actor.uri, Actor.id).where(Actor.uri.in_(actor_uris)))).all()
        )
        await bulk(
            conn,
            Project,
            [
                {
                    "actor_id": actor_ids[uri],
                    "local": True,
                    "tags": {"tags": ["trailer"]},
                    "upstream_uri": vuris[i - 1] if i else None,
                    "latest_version_uri": vuris[i],
                    "versions_count": 1,
                    "forks_count": 1 if i < depth - 1 else 0,
                    "created_at": EPOCH,
                }
                for i, uri in enumerate(actor_uris)
            ],
        )
        project_ids = dict(
            (
                await conn.execute(
                    select(Project.actor_id, Project.id).where(
                        Project.actor_id.in_(list(actor_ids.values()))
                    )
                )
            ).all()
        )
        pids = [project_ids[actor_ids[uri]] for uri in actor_uris]
        await bulk(conn, ProjectMaintainer, [{"project_id": p, "actor_id": maker_id} for p in pids])
        rows = []
        for i, (pid, uri) in enumerate(zip(pids, vuris, strict=True)):
            row = version_row(pid, uri, 1, maker_uri)
            row["upstream_uri"] = vuris[i - 1] if i else None
            row["name"] = f"Trailer fork {i}"
            rows.append(row)
        await bulk(conn, DesignVersion, rows)
        await bulk(
            conn,
            Fork,
            [
                {
                    "upstream_uri": vuris[i - 1],
                    "upstream_project_uri": actor_uris[i - 1],
                    "fork_uri": vuris[i],
                    "fork_project_uri": actor_uris[i],
                    "created_at": EPOCH,
                }
                for i in range(1, depth)
            ],
        )
    return LineageData(deepest_version=vuris[-1], root_project=actor_uris[0])


# --- measuring -----------------------------------------------------------------------------


class StatementLog:
    """Statements the engine runs while `on`, with their durations (for `--explain`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.on = False
        self.statements: list[tuple[str, Any, float]] = []
        self._started: list[float] = []
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._before)
        event.listen(sync, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if self.on:
            self._started.append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if self.on and self._started:
            elapsed = time.perf_counter() - self._started.pop()
            self.statements.append((statement, params, elapsed))

    def take(self) -> list[tuple[str, Any, float]]:
        taken, self.statements = self.statements, []
        return taken


@dataclass
class Timing:
    name: str
    latencies: list[float]  # ms, sorted
    statuses: Counter[int]
    statements: float = 0.0  # per request
    sql_ms: float = 0.0  # per request
    note: str = ""

    def row(self) -> str:
        latency = " ".join(f"{value:7.2f}" for value in latency_summary(self.latencies))
        ok = ",".join(f"{s}x{n}" for s, n in sorted(self.statuses.items()))
        return f"{latency} {self.statements:5.1f} {self.sql_ms:7.2f}  {ok} {self.note}"


async def measure(
    name: str,
    call: Callable[[int], Awaitable[int]],
    runs: int,
    log: StatementLog,
    warmup: int = 10,
) -> Timing:
    for i in range(warmup):
        await call(i)
    latencies, statuses = [], Counter[int]()
    for i in range(runs):
        start = time.perf_counter()
        status = await call(i)
        latencies.append((time.perf_counter() - start) * 1000)
        statuses[status] += 1
    # Statements per call, and their time, from a separate pass (the listener costs a little).
    log.take()
    log.on = True
    sample = min(20, runs)
    for i in range(sample):
        await call(i)
    log.on = False
    taken = log.take()
    return Timing(
        name,
        sorted(latencies),
        statuses,
        statements=len(taken) / sample,
        sql_ms=sum(t for _, _, t in taken) * 1000 / sample,
    )


async def explain(
    engine: AsyncEngine, name: str, statements: Iterable[tuple[str, Any, float]]
) -> None:
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    print(f"\n--- plans: {name}")
    async with engine.connect() as conn:
        for statement, params, elapsed in statements:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            print(f"\n[{elapsed * 1000:.2f} ms] {' '.join(statement.split())[:400]}")
            print(f"  params: {str(params)[:200]}")
            rows = (await conn.exec_driver_sql(prefix + statement, params)).all()
            for row in rows:
                print("   ", row[0] if postgres else " | ".join(str(v) for v in row[1:]))
        await conn.rollback()


def has_route(app: Any, path: str) -> bool:
    stack = list(app.routes)
    while stack:
        route = stack.pop()
        if getattr(route, "path", None) == path:
            return True
        stack.extend(getattr(route, "routes", []) or [])
    return False


async def run(args: argparse.Namespace) -> None:
    async with temp_database(args.db) as (url, data_dir):
        settings = Settings(
            domain="bench.test", scheme="https", data_dir=data_dir, database_url=url
        )
        app = create_app(settings, run_workers=False)
        async with app.router.lifespan_context(app):
            instance: Instance = app.state.instance
            engine = instance.engine
            started = time.perf_counter()
            data = await seed_read(
                instance,
                args.versions,
                args.comments,
                args.heavy_comments,
                args.page,
                args.other_outbox,
            )
            read_seed_s = time.perf_counter() - started
            started = time.perf_counter()
            chain = await seed_lineage(instance, args.forks)
            lineage_seed_s = time.perf_counter() - started
            for number, spec in enumerate(args.try_index):
                # A what-if, in the throw-away database only: the app's schema is unchanged.
                async with engine.begin() as conn:
                    await conn.execute(text(f"CREATE INDEX bench_try_{number} ON {spec}"))
            analyzed = "no"
            if engine.dialect.name == "postgresql" and not args.no_analyze:
                # What autovacuum would have done by now on a live server.
                async with engine.connect() as conn:
                    await conn.execute(text("ANALYZE"))
                    await conn.commit()
                analyzed = "yes (ANALYZE after seeding)"
            print_table(
                "settings",
                [
                    ("run", f"--db {args.db} --requests {args.requests} --runs {args.runs}"),
                    *data.counts.items(),
                    ("forks in the lineage chain", args.forks),
                    ("read data generated in s", read_seed_s),
                    ("lineage data generated in s", lineage_seed_s),
                    ("statistics", analyzed),
                    ("extra indexes (--try-index)", ", ".join(args.try_index) or "none"),
                    ("machine before measuring", load_note()),
                ],
            )

            log = StatementLog(engine)
            transport = httpx.ASGITransport(app=app)
            rng = random.Random(2)
            base = f"/users/{data.slug}"
            heavy = f"{base}/versions/{data.heavy}/replies?page=true"
            popular = f"{base}/versions/{data.popular}/replies?page=true"
            timings: list[Timing] = []
            async with httpx.AsyncClient(
                transport=transport, base_url=settings.base_url, headers=AP_JSON
            ) as client:
                checks: dict[str, str] = {}

                def getter(path: Callable[[int], str], expect_items: bool = False):
                    async def call(i: int) -> int:
                        url = path(i)
                        response = await client.get(url)
                        # Counted once (in the warm-up), so that parsing is not what is timed.
                        if expect_items and url not in checks and response.status_code == 200:
                            items = response.json().get("orderedItems", [])
                            checks[url] = f"{len(items)} items"
                        return response.status_code

                    return call

                endpoints: list[tuple[str, Callable[[int], str], bool]] = [
                    ("project actor", lambda i: base, False),
                    (
                        "version (random of all)",
                        lambda i: f"{base}/versions/{rng.randint(1, data.versions)}",
                        False,
                    ),
                    ("outbox page 1", lambda i: f"{base}/outbox?page=true", True),
                    (
                        f"outbox page {args.page}",
                        lambda i: f"{base}/outbox?page=true&max_id={data.outbox_cursor}",
                        True,
                    ),
                    ("replies page 1 (heavy)", lambda i: heavy, True),
                    (
                        f"replies page {args.page} (heavy)",
                        lambda i: f"{heavy}&min_id={data.replies_cursor}",
                        True,
                    ),
                    ("replies page 1 (popular)", lambda i: popular, True),
                    (
                        f"replies page {data.popular_pages} (popular, last)",
                        lambda i: f"{popular}&min_id={data.popular_cursor}",
                        True,
                    ),
                ]
                for name, path, expect in endpoints:
                    timing = await measure(name, getter(path, expect), args.requests, log)
                    if expect:
                        timing.note = checks.get(path(0), "")
                    timings.append(timing)

                # Lineage: the functions, then the HTTP route if it exists.
                async def ancestors_call(i: int) -> int:
                    async with instance.sessions() as session:
                        found = await lineage.ancestors(session, chain.deepest_version)
                    return len(found.chain)

                async def descendants_call(i: int) -> int:
                    async with instance.sessions() as session:
                        root = await lineage.descendants(session, chain.root_project)
                    depth, node = 0, root
                    while node.forks:
                        depth, node = depth + 1, node.forks[0]
                    return depth

                lineage_timings = [
                    await measure("ancestors(deepest version)", ancestors_call, args.runs, log),
                    await measure("descendants(root project)", descendants_call, args.runs, log),
                ]
                for timing in lineage_timings:  # the "status" is the length found
                    timing.note = f"length {', '.join(map(str, timing.statuses))}"
                    timing.statuses = Counter()
                lineage_http = has_route(app, "/api/v1/lineage")
                if lineage_http:
                    path = f"/api/v1/lineage?version={chain.deepest_version}"
                    lineage_timings.append(
                        await measure("GET /api/v1/lineage", getter(lambda i: path), args.runs, log)
                    )

            header = "     p50     p90     p99     max  stmts  sql ms  statuses"
            print(f"\nread path, {args.requests} sequential requests each (ms)")
            print(f"  {'':<32}{header}")
            for timing in timings:
                print(f"  {timing.name:<32}{timing.row()}")
            print(f"\nlineage, {args.runs} runs each (ms)")
            print(f"  {'':<32}{header}")
            for timing in lineage_timings:
                print(f"  {timing.name:<32}{timing.row()}")
            if not lineage_http:
                print("  GET /api/v1/lineage: no such route in this app, skipped")

            if args.explain:
                for name, path, _ in endpoints:
                    async with httpx.AsyncClient(
                        transport=transport, base_url=settings.base_url, headers=AP_JSON
                    ) as client:
                        log.on = True
                        await client.get(path(0))
                        log.on = False
                    await explain(engine, name, log.take())
                for name, call in (
                    ("ancestors", ancestors_call),
                    ("descendants", descendants_call),
                ):
                    log.on = True
                    await call(0)
                    log.on = False
                    await explain(engine, name, log.take())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=300, help="per read endpoint")
    parser.add_argument("--runs", type=int, default=100, help="per lineage measurement")
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--heavy-comments", type=int, default=20_000)
    parser.add_argument("--forks", type=int, default=1_000, help="length of the fork chain")
    parser.add_argument(
        "--other-outbox",
        type=int,
        default=100_000,
        help="activities of another local actor in the outbox table, after the project's",
    )
    parser.add_argument("--page", type=int, default=500, help="the deep page to fetch")
    parser.add_argument("--no-analyze", action="store_true", help="PostgreSQL: skip ANALYZE")
    parser.add_argument("--explain", action="store_true", help="print every statement's plan")
    parser.add_argument(
        "--try-index",
        action="append",
        default=[],
        metavar="TABLE(COLUMNS)",
        help="what-if: create this index in the throw-away database after seeding"
        " (e.g. 'notes (in_reply_to, id)'); repeatable",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
