"""Running Alembic migrations on an async engine (`qunyun migrate`; `serve` migrates on start)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(metadata: MetaData | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("qunyun.db") / "migrations"))
    cfg.attributes["target_metadata"] = metadata
    return cfg


def _run(connection: Connection, cfg: Config, fn: Any, *args: Any) -> None:
    cfg.attributes["connection"] = connection
    fn(cfg, *args)


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    cfg = alembic_config()
    async with engine.begin() as connection:
        await connection.run_sync(_run, cfg, command.upgrade, revision)


async def current_heads(engine: AsyncEngine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        return await connection.run_sync(read)
