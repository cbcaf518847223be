"""The engine factory. Engines are built by the composition root, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from qunyun.db.sqlite_driver import BEGIN_IMMEDIATE, OneHopDBAPI


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions, so SAVEPOINT works (see _begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# A writer's transaction takes SQLite's write lock when it begins. A deferred transaction that
# reads first and writes later fails at once ("database is locked") if another connection
# committed in between, since its snapshot is stale; waiting at BEGIN IMMEDIATE cannot fail so.
_IMMEDIATE = "qunyun_begin_immediate"


def _begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    connection.exec_driver_sql(BEGIN_IMMEDIATE if immediate else "BEGIN")


def _json_text(value: Any) -> str:
    """JSON columns' text: orjson's, several times faster than the standard library's for the
    batches' action data and job payloads (keys that are not strings become strings, as there)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL mode and its data directory created."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, module=OneHopDBAPI(),
                                     json_serializer=_json_text)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin)
        return engine
    # Batches bind many values (IN lists of a thousand ids); a generic plan for those is poor,
    # so PostgreSQL plans each execution with its actual values.
    return create_async_engine(
        url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True,
        json_serializer=_json_text,
        connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}})


def session_factory(engine: AsyncEngine, *,
                    writer: bool = False) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`. `writer`: for transactions that read and then write (the pipeline,
    delivery, changes by staff); on SQLite they queue for the write lock when they begin."""
    bind = engine.execution_options(**{_IMMEDIATE: True}) if writer else engine
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)
