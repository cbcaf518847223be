"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnClause, ColumnElement, column, func, literal, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, target: Any) -> Any:
    """An INSERT that supports `on_conflict_do_nothing/do_update` on the session's backend.

    `target` is a model or a table; either way the statement is Core, on the table: the ORM's
    bulk INSERT does Python work per row that plain rows of values do not need."""
    table = getattr(target, "__table__", target)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def among(session: AsyncSession, *columns: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`columns IN values`: one column and its values, or several and tuples of theirs.

    On SQLite the values go as one JSON parameter that `json_each` reads. The statement is
    then the same for any number of values, so neither SQLAlchemy nor SQLite compiles it
    again, and a key of several columns is found through its index: SQLite reads the whole
    table for `(a, b) IN (VALUES …)`. Each value is stored as its column's type stores it
    (dates and times as their text)."""
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        return (columns[0] if len(columns) == 1 else tuple_(*columns)).in_(values)
    single = len(columns) == 1
    rows = _converted(dialect, columns, ((v,) for v in values) if single else values)
    listed = literal(orjson.dumps([r[0] for r in rows] if single else rows).decode())
    value: ColumnClause[Any] = column("value")
    if single:
        one: ColumnElement[bool] = columns[0].in_(
            select(value).select_from(func.json_each(listed)))
        return one
    parts = [func.json_extract(value, f"$[{i}]") for i in range(len(columns))]
    return tuple_(*columns).in_(select(*parts).select_from(func.json_each(listed)))


def _converted(dialect: Any, columns: Sequence[Any],
               rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows of values for `columns` as the driver is given them: each through its column
    type's conversion, if it has one (dates and times become text on SQLite)."""
    converters = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    return [tuple(convert(v) if convert else v for convert, v in zip(converters, row, strict=True))
            for row in rows]


async def bulk_insert(session: AsyncSession, table: Any, rows: list[dict[str, Any]], *,
                      skip_conflicts: bool = False) -> None:
    """Insert many rows at once. On PostgreSQL a COPY (or, when conflicts are to be skipped, one
    `INSERT … SELECT FROM unnest(arrays)`), much faster than a row-by-row executemany; on
    SQLite the driver's own executemany, each column's values converted once by its type.
    Every row must have the same keys; a column left out gets the database's default, not
    the model's Python-side one. `skip_conflicts`: rows that break a unique constraint are left
    out (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    sql_table = getattr(table, "__table__", table)
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        await _executemany(session, sql_table, rows, skip_conflicts)
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


async def _executemany(session: AsyncSession, table: Any, rows: list[dict[str, Any]],
                       skip_conflicts: bool) -> None:
    """SQLite: the rows straight to the driver's executemany. SQLAlchemy's own executemany
    spends more per row building parameters than SQLite spends inserting it."""
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    values = _converted(session.get_bind().dialect, columns,
                        ([row[name] for name in names] for row in rows))
    conflict = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    # Table and column names come from our metadata, never from input.
    statement = (f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) "
                 f"VALUES ({', '.join('?' * len(columns))}){conflict}")
    connection = await session.connection()
    await connection.exec_driver_sql(statement, values)
