"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, table: Any) -> Any:
    """An INSERT that supports `on_conflict_do_nothing/do_update` on the session's backend."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def bulk_insert(session: AsyncSession, table: Any, rows: list[dict[str, Any]], *,
                      skip_conflicts: bool = False) -> None:
    """Insert many rows at once. On PostgreSQL a COPY (or, when conflicts are to be skipped, one
    `INSERT … SELECT FROM unnest(arrays)`), much faster than a row-by-row executemany; elsewhere
    an executemany.
    Every row must have the same keys. `skip_conflicts`: rows that break a unique constraint
    are left out (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    sql_table = table.__table__ if hasattr(table, "__table__") else table
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        statement = insert_for(session, sql_table)
        if skip_conflicts:
            statement = statement.on_conflict_do_nothing()
        await session.execute(statement, rows)
        return
    names = list(rows[0])
    if not skip_conflicts:
        await _copy(session, sql_table.name, names, rows)
        return
    casts = ", ".join(
        f"CAST(:c{i} AS {sql_table.c[name].type.compile(dialect=dialect)}[])"
        for i, name in enumerate(names))
    conflict = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    # Table and column names come from our metadata, never from input.
    statement = text(f"INSERT INTO {sql_table.name} ({', '.join(names)}) "
                     f"SELECT * FROM unnest({casts}){conflict}")
    params = {f"c{i}": [row[name] for row in rows] for i, name in enumerate(names)}
    await session.execute(statement, params)


async def _copy(session: AsyncSession, table: str, names: list[str],
                rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY through the session's own connection, so it joins its transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        table, columns=names, records=[tuple(row[name] for name in names) for row in rows])
