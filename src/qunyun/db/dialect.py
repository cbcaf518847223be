"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, table: Any) -> Any:
    """An INSERT that supports `on_conflict_do_nothing/do_update` on the session's backend."""
    if session.bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
