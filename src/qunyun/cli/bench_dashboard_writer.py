"""Bulk inserts for the dashboard benchmark: rows as tuples, straight to the database driver.

SQLite: the standard library's sqlite3 with synchronous writes off for the load, values in the
forms SQLAlchemy stores (UTC text for times); an indexed table loaded in `bulk` gets its
secondary indexes dropped first and rebuilt after. PostgreSQL: COPY through asyncpg.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import make_url

Row = tuple[Any, ...]


class BulkWriter(Protocol):
    async def next_id(self, table: str) -> int: ...

    async def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None: ...

    def bulk(self, table: str) -> Any: ...

    async def finish(self) -> None: ...

    async def close(self) -> None: ...


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


class SqliteWriter:
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA cache_size=-512000")
        self._db.execute("BEGIN")

    async def next_id(self, table: str) -> int:
        found = self._db.execute(f"SELECT max(id) FROM {table}").fetchone()
        return int(found[0] or 0) + 1

    async def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        if not rows:
            return
        marks = ", ".join("?" for _ in columns)
        self._db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                             [tuple(_sqlite_value(v) for v in row) for row in rows])

    @asynccontextmanager
    async def bulk(self, table: str) -> AsyncIterator[None]:
        indexes = self._db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL", (table,)).fetchall()
        for name, _sql in indexes:
            self._db.execute(f"DROP INDEX {name}")
        yield
        for _name, sql in indexes:
            self._db.execute(sql)

    async def finish(self) -> None:
        self._db.execute("COMMIT")

    async def close(self) -> None:
        self._db.close()


class PostgresWriter:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._db = connection

    @classmethod
    async def connect(cls, url: str) -> PostgresWriter:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        return cls(await asyncpg.connect(dsn))

    async def next_id(self, table: str) -> int:
        return int(await self._db.fetchval(f"SELECT coalesce(max(id), 0) FROM {table}")) + 1

    async def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        if rows:
            await self._db.copy_records_to_table(table, records=rows, columns=list(columns))

    @asynccontextmanager
    async def bulk(self, table: str) -> AsyncIterator[None]:
        yield

    async def finish(self) -> None:
        """Move the id sequences past the ids written; vacuum and analyze as autovacuum would
        (statistics for the planner, the visibility map for index-only scans)."""
        for table in ("communities", "tags", "groups", "persons", "platform_accounts",
                      "memberships"):
            await self._db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))")
        await self._db.execute("VACUUM ANALYZE")

    async def close(self) -> None:
        await self._db.close()


async def open_writer(url: str) -> BulkWriter:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SqliteWriter(str(parsed.database))
    return await PostgresWriter.connect(url)
