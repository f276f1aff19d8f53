"""Outages on real servers: the database cut off or locked, a runaway statement, a full or
read-only disk. Each answers 503 or 507 with Retry-After and a message, stores nothing half,
and the server recovers without a restart.

The database faults are real: for PostgreSQL a TCP proxy between the server and the database
resets every connection and refuses new ones; for SQLite another process holds the
database's lock. Disks are small tmpfs mounts (the test is skipped where mounting is not
allowed).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from actors.models import Actor
from federation.db import REDOABLE_COMMITS, make_engine, make_session_factory
from federation.errors import ValidationError
from federation.keys import load_rsa_private_pem
from federation.outages import STATEMENT_TOO_LONG, outage_of
from federation.settings import Settings
from federation.signatures import sign_cavage
from federation.vocab import ACTIVITY_JSON
from inbox.models import InboxItem
from objects.media_models import MediaAttachment
from objects.models import Note
from tests.live import live_server, wait_for
from tests.support import Node, bearer
from tests.tcp_proxy import tcp_proxy
from web.outage_answers import OutageAnswers

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# Short limits, so that a fault is noticed within a second or two.
LIMITS = {"database_connect_timeout_seconds": 1.0, "database_statement_timeout_seconds": 2.0}
# The longest an outage may hold a request: the connect timeout or the statement deadline,
# the client's grace, and a loaded test machine.
HELD_AT_MOST = 8.0


# --- a remote sender that signs as servers do -------------------------------------------------


@dataclass
class Sender:
    actor: Actor

    def create(self, text_: str) -> dict[str, Any]:
        base = self.actor.uri
        note = {
            "id": f"{base}/notes/{uuid.uuid4().hex}",
            "type": "Note",
            "attributedTo": base,
            "content": f"<p>{text_}</p>",
            "to": [PUBLIC],
        }
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{base}/activities/{uuid.uuid4().hex}",
            "type": "Create",
            "actor": base,
            "object": note,
            "to": [PUBLIC],
        }

    async def deliver(self, http: httpx.AsyncClient, activity: dict[str, Any]) -> httpx.Response:
        body = json.dumps(activity).encode()
        headers = {"Content-Type": ACTIVITY_JSON}
        assert self.actor.private_key_pem is not None
        key = load_rsa_private_pem(self.actor.private_key_pem)
        url = f"{http.base_url}inbox"
        headers.update(sign_cavage("POST", url, headers, body, self.actor.public_key_id, key))
        return await http.post("/inbox", content=body, headers=headers)


async def post_status(http: httpx.AsyncClient, token: str, words: str) -> httpx.Response:
    return await http.post("/api/v1/statuses", json={"status": words}, headers=bearer(token))


def assert_outage(response: httpx.Response, status: int = 503, html: bool = False) -> None:
    assert response.status_code == status, response.text[:300]
    assert int(response.headers["retry-after"]) > 0
    if html:
        assert response.headers["content-type"].startswith("text/html")
        assert "nothing was changed" in response.text
    else:
        assert "nothing was changed" in response.json()["error"]


async def timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


# --- database faults -------------------------------------------------------------------------


@dataclass
class Fault:
    url: str  # what the server under test connects to
    take_down: Callable[[], None]
    bring_back: Callable[[], None]
    hang: Callable[[], None] | None = None  # answers nothing, closes nothing

    # In a thread: taking SQLite's lock waits for the server's transaction, on this loop.
    async def cut(self) -> None:
        await asyncio.to_thread(self.take_down)

    async def restore(self) -> None:
        await asyncio.to_thread(self.bring_back)


@contextlib.asynccontextmanager
async def database_fault(url: str) -> AsyncIterator[Fault]:
    """PostgreSQL behind a proxy that can cut it off; SQLite with a lock another process
    can take."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        async with tcp_proxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
            proxied = parsed.set(port=proxy.port).render_as_string(hide_password=False)
            yield Fault(proxied, proxy.cut, proxy.restore, proxy.stall)
        return
    with sqlite_locker(Path(str(parsed.database))) as (lock, unlock):
        yield Fault(url, lock, unlock)


@contextlib.contextmanager
def sqlite_locker(path: Path) -> Iterator[tuple[Callable[[], None], Callable[[], None]]]:
    """Another process that takes the database's write lock on `lock()` until `unlock()`."""
    script = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
        "for line in sys.stdin:\n"
        "    c.execute('BEGIN EXCLUSIVE' if line.strip() == 'lock' else 'ROLLBACK')\n"
        "    print('ok', flush=True)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None

    def command(word: str) -> None:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(word + "\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "ok"

    try:
        yield (lambda: command("lock")), (lambda: command("unlock"))
    finally:
        child.stdin.close()
        child.wait(10)


async def stored(node: Node, *activities: dict[str, Any]) -> bool:
    """Every activity is in the inbox and its note was processed into the notes."""
    async with node.instance.sessions() as session:
        items = await session.scalar(
            select(func.count())
            .select_from(InboxItem)
            .where(InboxItem.activity_uri.in_([a["id"] for a in activities]))
        )
        notes = await session.scalar(
            select(func.count())
            .select_from(Note)
            .where(Note.uri.in_([a["object"]["id"] for a in activities]))
        )
    return items == notes == len(activities)


async def test_database_outage_answers_503_and_recovers_without_loss(
    new_database: Callable[[], Any], tmp_path: Path
) -> None:
    url = await new_database()
    async with (
        live_server(await new_database(), tmp_path / "b") as b,
        database_fault(url) as fault,
        live_server(fault.url, tmp_path / "a", **LIMITS) as a,
    ):
        _, token = await a.user("alice")
        sender = Sender((await b.user("bob"))[0])
        async with httpx.AsyncClient(base_url=f"http://{a.domain}/", timeout=30) as http:
            before = sender.create("accepted before the outage")
            assert (await sender.deliver(http, before)).status_code == 202
            assert (await post_status(http, token, "posted before")).status_code == 200

            await fault.cut()
            during = sender.create("sent during the outage")
            for request, html in (
                (post_status(http, token, "posted during"), False),
                (sender.deliver(http, during), False),
                (http.get("/users/alice", headers={"Accept": "text/html"}), True),
            ):
                response, took = await timed(request)
                assert_outage(response, html=html)
                assert took < HELD_AT_MOST

            await fault.restore()
            recovered = await wait_for(
                lambda: _status_is(post_status(http, token, "posted after"), 200)
            )
            assert recovered
            if fault.hang is not None:  # a stalled database holds no request for long
                fault.hang()
                response, took = await timed(post_status(http, token, "posted while stalled"))
                assert_outage(response)
                assert took < HELD_AT_MOST
                await fault.restore()
                await wait_for(lambda: _status_is(post_status(http, token, "again"), 200))
            assert (await sender.deliver(http, during)).status_code == 202
        await wait_for(lambda: stored(a, before, during), seconds=30)
        async with a.instance.sessions() as session:  # the post answered before is kept
            kept = select(func.count()).where(Note.content.contains("posted before"))
            assert await session.scalar(kept) == 1


async def _status_is(request: Any, status: int) -> bool:
    return bool((await request).status_code == status)


# --- a runaway statement ---------------------------------------------------------------------

RUNAWAY = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


async def test_runaway_statement_is_stopped_while_others_are_answered(
    new_database: Callable[[], Any], tmp_path: Path
) -> None:
    async with live_server(await new_database(), tmp_path / "a", **LIMITS) as a:
        _, token = await a.user("alice")

        async def runaway() -> tuple[BaseException | None, float]:
            started = time.monotonic()
            try:
                async with a.instance.sessions() as session:
                    await session.execute(text(RUNAWAY))
            except DBAPIError as exc:
                return exc, time.monotonic() - started
            return None, time.monotonic() - started

        async with httpx.AsyncClient(base_url=f"http://{a.domain}/", timeout=30) as http:
            task = asyncio.create_task(runaway())
            await asyncio.sleep(0.2)  # the statement is running (and on SQLite holds the pool)
            answers = [await timed(post_status(http, token, f"meanwhile {n}")) for n in range(3)]
            error, took = await task
            assert error is not None
            outage = outage_of(error)
            assert outage is not None and outage.status == 503
            assert outage.message == STATEMENT_TOO_LONG
            assert LIMITS["database_statement_timeout_seconds"] <= took < HELD_AT_MOST
            for response, seconds in answers:
                assert response.status_code == 200
                assert seconds < HELD_AT_MOST
            # The connection that ran it is usable: the next request is answered at once.
            response, seconds = await timed(post_status(http, token, "after"))
            assert response.status_code == 200 and seconds < 1.0


# --- a full or read-only disk ----------------------------------------------------------------

DISK_BYTES = 16 * 1024 * 1024
MiB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs of our own, unmounted afterwards; skipped where mounting is refused."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full (ENOSPC); return it."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (MiB, 4096):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
    finally:
        os.close(fd)
    return filler


def noise_png(side: int = 700) -> bytes:
    """A PNG of random pixels: about 1.5 MB that does not compress."""
    from PIL import Image

    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


async def upload(http: httpx.AsyncClient, token: str, png: bytes) -> httpx.Response:
    return await http.post(
        "/api/v2/media", files={"file": ("noise.png", png, "image/png")}, headers=bearer(token)
    )


async def test_full_or_read_only_disk_answers_507_and_keeps_nothing_half_written(
    new_database: Callable[[], Any], tmp_path: Path, small_disk: Path
) -> None:
    files = small_disk / "data" / "files"
    async with live_server(
        await new_database(), small_disk / "data", min_free_disk_bytes=2 * MiB
    ) as a:
        _, token = await a.user("alice")
        png = noise_png()
        async with httpx.AsyncClient(base_url=f"http://{a.domain}/", timeout=30) as http:
            assert (await http.get("/readyz")).status_code == 200
            filler = fill(small_disk)
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["check"] == "disk"
            assert "free some space" in ready.json()["error"]
            assert_outage(await upload(http, token, png), status=507)
            assert files_under(files) == []  # neither a staged part nor a blob
            assert await count_media(a) == 0

            filler.unlink()
            assert (await http.get("/readyz")).status_code == 200
            assert (await upload(http, token, png)).status_code == 200  # no restart needed

            remount(small_disk, "ro")
            try:
                assert_outage(await upload(http, token, noise_png()), status=507)
            finally:
                remount(small_disk, "rw")
            assert len(files_under(files / "sha256")) == 1 and files_under(files / "tmp") == []
            assert await count_media(a) == 1
            assert (await upload(http, token, noise_png())).status_code == 200


def remount(disk: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)], check=True)


async def count_media(node: Node) -> int:
    async with node.instance.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MediaAttachment)) or 0)


# --- settings --------------------------------------------------------------------------------


async def test_sqlite_syncs_every_answered_commit_unless_told_otherwise(tmp_path: Path) -> None:
    """FULL (2) for requests; NORMAL (1) for the tasks of queue workers, whose work is redone
    if a power cut loses it, and for everything when the setting says normal."""

    async def synchronous(engine: AsyncEngine) -> int:
        async with make_session_factory(engine)() as session:
            return int(await session.scalar(text("PRAGMA synchronous")) or 0)

    for setting, answered in (("full", 2), ("normal", 1)):
        engine = make_engine(Settings(data_dir=tmp_path, sqlite_synchronous=setting))
        try:
            assert await synchronous(engine) == answered
            redoable = REDOABLE_COMMITS.set(True)
            worker = asyncio.create_task(synchronous(engine))
            REDOABLE_COMMITS.reset(redoable)
            assert await worker == 1
            assert await synchronous(engine) == answered
        finally:
            await engine.dispose()
    assert Settings().sqlite_synchronous == "full"


@pytest.mark.parametrize(
    "changes",
    [
        {"database_statement_timeout_seconds": 0},
        {"database_connect_timeout_seconds": -1},
        {"sqlite_synchronous": "off"},
    ],
)
def test_unsafe_database_settings_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**changes)
    assert next(iter(changes)).upper() in refused.value.message


async def test_a_bug_is_still_a_500_and_a_cause_is_found_under_other_errors() -> None:
    async def bug(request: Any) -> Any:
        raise PermissionError(errno.EACCES, "a file the code should not touch")

    async def wrapped(request: Any) -> Any:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise RuntimeError("while writing the thumbnail") from exc

    app = Starlette(
        routes=[Route("/bug", bug), Route("/wrapped", wrapped)],
        middleware=[Middleware(OutageAnswers)],
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/bug")).status_code == 500
        assert_outage(await http.get("/wrapped"), status=507)
