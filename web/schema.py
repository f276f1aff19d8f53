"""Every table, and migrating a database to the newest schema with Alembic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import actors.browser_models
import actors.models
import actors.moderation_models
import actors.relation_models
import inbox.models
import objects.conversation_models
import objects.design_models
import objects.filter_models
import objects.make_models
import objects.marker_models
import objects.media_models
import objects.models
import objects.pin_models
import objects.push_models
import objects.tag_models
import objects.thumbnail_models
import outbox.models
import outbox.scheduled_models
from federation.db import Base
from federation.settings import Settings

# The top-level migrations/ folder: beside web/ in a checkout and in site-packages alike
# (the wheel installs it as the `migrations` package).
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
LOCK_KEY = 0x6F7572_6465736967  # "ourdesig": any constant shared by every process
_MODEL_MODULES = (
    actors.models,
    actors.browser_models,
    actors.moderation_models,
    actors.relation_models,
    objects.models,
    objects.conversation_models,
    objects.design_models,
    objects.make_models,
    objects.filter_models,
    objects.marker_models,
    objects.pin_models,
    objects.tag_models,
    objects.media_models,
    objects.push_models,
    objects.thumbnail_models,
    outbox.models,
    outbox.scheduled_models,
    inbox.models,
)


def metadata() -> MetaData:
    """The metadata with every model registered (the imports above register them)."""
    assert _MODEL_MODULES
    return Base.metadata


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", settings.effective_database_url)
    # Data migrations that read stored files (0023 computes IPFS CIDs from the blobs).
    config.attributes["data_dir"] = settings.data_dir
    return config


async def migrate(engine: AsyncEngine, settings: Settings) -> None:
    """Bring the database to the newest revision (creates it on first run)."""
    config = alembic_config(settings)
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # `serve` and `worker` processes may start together: one migrates, the others wait
            # for it (on SQLite the first statement's BEGIN IMMEDIATE does the same).
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        await connection.run_sync(_upgrade, config)


def _upgrade(connection: object, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


# --- where a database stands ----------------------------------------------------------------


def script_directory(settings: Settings) -> ScriptDirectory:
    """The migration scripts (read from disk: call it lazily, not per request)."""
    return ScriptDirectory.from_config(alembic_config(settings))


def head_revisions(settings: Settings) -> tuple[str, ...]:
    """The migration script directory's head revision(s); reads the scripts, so call lazily."""
    return tuple(sorted(script_directory(settings).get_heads()))


def pending_revisions(settings: Settings, current: Sequence[str]) -> list[str]:
    """Revisions between the database's and the head, oldest first."""
    script = script_directory(settings)
    pending = [
        rev.revision for rev in script.iterate_revisions(tuple(script.get_heads()), tuple(current))
    ]
    return list(reversed(pending))


async def current_revisions(connection: AsyncConnection) -> tuple[str, ...] | None:
    """The revisions in `alembic_version`, or None when the table does not exist."""
    has_table = await connection.run_sync(
        lambda sync: sync.dialect.has_table(sync, "alembic_version")
    )
    if not has_table:
        return None
    rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
    return tuple(sorted(row[0] for row in rows))


async def current_revision(connection: AsyncConnection) -> str | None:
    """The database's single revision, or None when it has no schema yet."""
    revisions = await current_revisions(connection)
    return revisions[0] if revisions else None
