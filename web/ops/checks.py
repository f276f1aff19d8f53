"""Operational checks: each small function returns a `CheckResult`.

Used by `ourdesign check` and, for the database and schema, by `/readyz`. Nothing here
opens an instance (which would migrate the database and hide pending migrations): the
checks take an engine, a data directory or an HTTP client.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import make_url, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from actors.models import Actor
from actors.service import INSTANCE_ACTOR_USERNAME
from federation.db import make_engine, make_session_factory
from federation.errors import FederationError
from federation.http import build_http_client
from federation.keys import load_rsa_private_pem
from federation.settings import Settings
from federation.urls import LocalUrls
from federation.vocab import ACTIVITY_JSON
from web.schema import current_revisions, head_revisions, pending_revisions

GiB = 1 << 30
MiB = 1 << 20
DISK_WARN_BYTES = GiB
DISK_FAIL_BYTES = 100 * MiB
DB_TIMEOUT_SECONDS = 10.0
SELF_TEST_HINT = "is `ourdesign serve` running and reachable at {base_url}?"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    warning: bool = False
    skipped: bool = False

    @property
    def label(self) -> str:
        if not self.ok:
            return "FAIL"
        if self.skipped:
            return "skip"
        return "warn" if self.warning else "ok"

    def line(self) -> str:
        return f"{self.label:<4}  {self.name}: {self.detail}"


def _first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip() or type(exc).__name__
    return message.splitlines()[0]


def safe_url(url: str) -> str:
    """A database URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable database URL>"


# --- configuration -------------------------------------------------------------------------


def check_config(settings: Settings) -> CheckResult:
    detail = f"{settings.base_url}, data in {settings.data_dir.resolve()}"
    if settings.scheme == "http" and not settings.domain.startswith(("localhost", "127.")):
        return CheckResult("config", True, detail + " (plain http: for testing only)", True)
    return CheckResult("config", True, detail)


# --- database and schema -------------------------------------------------------------------


def schema_problem(current: tuple[str, ...] | None, heads: tuple[str, ...]) -> str | None:
    """What is wrong with the schema, or None when it is at the head."""
    if current is None:
        return "the database has no schema (no alembic_version table): run `ourdesign migrate`"
    if current != heads:
        return (
            f"the schema is at {', '.join(current) or 'no revision'}, the code expects"
            f" {', '.join(heads)}: run `ourdesign migrate`"
        )
    return None


def _sqlite_file_missing(settings: Settings) -> Path | None:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database)
    return None if path.exists() else path


async def check_database(settings: Settings, engine: AsyncEngine) -> CheckResult:
    where = safe_url(settings.effective_database_url)
    missing = _sqlite_file_missing(settings)
    if missing is not None:
        return CheckResult(
            "database", False, f"no database file at {missing}: run `ourdesign migrate`"
        )
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        return CheckResult("database", False, f"{where} did not answer in {DB_TIMEOUT_SECONDS}s")
    except Exception as exc:
        return CheckResult("database", False, f"cannot use {where}: {_first_line(exc)}")
    return CheckResult("database", True, f"{engine.dialect.name} at {where} answers")


async def check_migrations(settings: Settings, engine: AsyncEngine) -> CheckResult:
    if _sqlite_file_missing(settings) is not None:
        return CheckResult("migrations", False, "no database yet: run `ourdesign migrate`")
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                current = await current_revisions(connection)
    except Exception as exc:
        return CheckResult("migrations", False, f"cannot read the schema: {_first_line(exc)}")
    heads = head_revisions(settings)
    problem = schema_problem(current, heads)
    if problem is None:
        return CheckResult("migrations", True, f"at head {', '.join(heads)}")
    try:
        pending = pending_revisions(settings, current or ())
    except Exception:  # a revision unknown to this code: newer code ran against it
        pending = []
    if pending:
        problem += f" (pending: {', '.join(pending)})"
    return CheckResult("migrations", False, problem)


async def check_instance_key(settings: Settings, engine: AsyncEngine) -> CheckResult:
    if _sqlite_file_missing(settings) is not None:
        return CheckResult("instance key", False, "no database yet: run `ourdesign migrate`")
    sessions = make_session_factory(engine)
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            async with sessions() as session:
                actor = await session.scalar(
                    select(Actor).where(
                        Actor.local.is_(True), Actor.username == INSTANCE_ACTOR_USERNAME
                    )
                )
    except Exception as exc:
        return CheckResult("instance key", False, f"cannot read it: {_first_line(exc)}")
    if actor is None:
        return CheckResult(
            "instance key",
            False,
            "no instance actor yet: it is created by `ourdesign migrate` or `ourdesign serve`",
        )
    expected = LocalUrls(settings.base_url).instance_actor
    if actor.uri != expected:
        return CheckResult(
            "instance key",
            False,
            f"the instance actor is {actor.uri}, not {expected}: was the domain changed?"
            " An instance cannot move to another domain",
        )
    if not actor.private_key_pem or not actor.public_key_pem:
        return CheckResult("instance key", False, f"{actor.uri} has no key pair")
    try:
        load_rsa_private_pem(actor.private_key_pem)
    except Exception as exc:
        return CheckResult("instance key", False, f"the private key does not load: {exc}")
    return CheckResult("instance key", True, f"{actor.public_key_id}")


# --- data directory ------------------------------------------------------------------------


def _existing(path: Path) -> Path:
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(
    data_dir: Path,
    *,
    usage: Callable[[Path], int] | None = None,
    fail_below: int = DISK_FAIL_BYTES,
) -> CheckResult:
    """Free space where the data directory lives; `usage` (free bytes) is for tests."""
    where = _existing(data_dir)
    try:
        free = usage(where) if usage is not None else shutil.disk_usage(where).free
    except OSError as exc:
        return CheckResult("disk space", False, f"cannot measure {where}: {exc}")
    detail = f"{free / GiB:.1f} GiB free in {where}"
    if free < fail_below:
        return CheckResult(
            "disk space", False, f"{detail} (under {fail_below / MiB:,.0f} MiB: free some space)"
        )
    if free < DISK_WARN_BYTES:
        return CheckResult("disk space", True, detail + " (under 1 GiB)", warning=True)
    return CheckResult("disk space", True, detail)


def storage_dirs(settings: Settings) -> list[Path]:
    """Where this instance writes: the SQLite database's directory and the files' directory."""
    dirs = [settings.data_dir / "files"]
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        dirs.insert(0, Path(url.database).parent)
    return dirs


def check_disks(settings: Settings) -> CheckResult:
    """`check_disk` for each of `storage_dirs`, against the `min_free_disk_bytes` setting;
    the first that fails, or the last that passes."""
    result = CheckResult("disk space", True, "nothing to measure")
    for directory in storage_dirs(settings):
        result = check_disk(directory, fail_below=settings.min_free_disk_bytes)
        if not result.ok:
            return result
    return result


def check_data_dir_writable(data_dir: Path) -> CheckResult:
    path = data_dir.resolve()
    if not path.is_dir():
        return CheckResult(
            "data dir", False, f"{path} does not exist: run `ourdesign migrate` to create it"
        )
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".ourdesign-check-") as fh:
            fh.write(b"ok")
            fh.flush()
    except OSError as exc:
        return CheckResult("data dir", False, f"{path} is not writable: {exc}")
    return CheckResult("data dir", True, f"{path} is writable")


# --- federation self-test ------------------------------------------------------------------


async def check_federation(settings: Settings, client: httpx.AsyncClient) -> CheckResult:
    """WebFinger for the instance actor, then its document, fetched as a remote server would."""
    urls = LocalUrls(settings.base_url)
    hint = SELF_TEST_HINT.format(base_url=settings.base_url)
    resource = f"acct:{INSTANCE_ACTOR_USERNAME}@{settings.host}"
    webfinger = f"{settings.base_url}/.well-known/webfinger?resource={quote(resource)}"
    try:
        response = await client.get(webfinger, headers={"Accept": "application/jrd+json"})
        if response.status_code != 200:
            return CheckResult(
                "federation", False, f"WebFinger {webfinger} answered {response.status_code}"
            )
        links = response.json().get("links", [])
        selves = [link.get("href") for link in links if link.get("rel") == "self"]
        if urls.instance_actor not in selves:
            return CheckResult(
                "federation",
                False,
                f"WebFinger for {resource} does not point to {urls.instance_actor}",
            )
        response = await client.get(urls.instance_actor, headers={"Accept": ACTIVITY_JSON})
        if response.status_code != 200:
            return CheckResult(
                "federation",
                False,
                f"{urls.instance_actor} answered {response.status_code}",
            )
        document = response.json()
    except httpx.HTTPError as exc:
        return CheckResult("federation", False, f"{_first_line(exc)}; {hint}")
    except FederationError as exc:  # e.g. the SSRF guard refusing a private address
        return CheckResult("federation", False, f"{exc.message}; {hint}")
    except ValueError as exc:
        return CheckResult("federation", False, f"not JSON from {settings.base_url}: {exc}")
    if document.get("id") != urls.instance_actor or "publicKey" not in document:
        return CheckResult(
            "federation", False, f"{urls.instance_actor} is not our instance actor's document"
        )
    return CheckResult("federation", True, f"WebFinger and {urls.instance_actor} answer")


# --- all of them ---------------------------------------------------------------------------


async def run_checks(
    settings: Settings,
    *,
    offline: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[CheckResult]:
    """Every check in order; `transport` routes the self-test to an in-process app (tests)."""
    results = [check_config(settings)]
    engine = make_engine(settings)
    try:
        database = await check_database(settings, engine)
        results.append(database)
        if database.ok:
            results.append(await check_migrations(settings, engine))
            results.append(await check_instance_key(settings, engine))
        else:
            results += [
                CheckResult(name, False, "skipped: the database is not reachable")
                for name in ("migrations", "instance key")
            ]
    finally:
        await engine.dispose()
    results.append(check_disks(settings))
    results.append(check_data_dir_writable(settings.data_dir))
    if offline:
        results.append(CheckResult("federation", True, "skipped (--offline)", skipped=True))
    else:
        async with build_http_client(settings, transport=transport) as client:
            results.append(await check_federation(settings, client))
    return results
