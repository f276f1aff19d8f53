"""Every table, and migrating a database to the newest schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

import actors.models
import inbox.models
import objects.design_models
import objects.models
import outbox.models
from federation.db import Base
from federation.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = 0x6F7572_6465736967  # "ourdesig": any constant shared by every process
_MODEL_MODULES = (actors.models, objects.models, objects.design_models, outbox.models, inbox.models)


def metadata() -> MetaData:
    """The metadata with every model registered (the imports above register them)."""
    assert _MODEL_MODULES
    return Base.metadata


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", settings.effective_database_url)
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
