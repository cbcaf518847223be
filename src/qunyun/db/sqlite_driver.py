"""SQLite through aiosqlite with one thread hop per statement.

SQLAlchemy's aiosqlite adapter makes a round trip to aiosqlite's thread for each step of a
statement (open a cursor, execute, fetch, close): four hops, each a queue put, a thread switch
and a wake-up of the event loop. Most of the pipeline's statements are small, so the hops cost
more than SQLite itself. Here a statement runs whole in the thread — execute, fetch every row,
close — and comes back once. Everything else (transactions, savepoints, errors, server-side
cursors) is SQLAlchemy's own adapter.

Once a connection holds SQLite's write lock (its `BEGIN IMMEDIATE` has returned), its
statements run on the calling thread with no hop at all. In WAL mode nothing inside a write
transaction waits for a lock: only taking the lock can wait (up to the busy timeout), and the
commit may checkpoint; those two still run in aiosqlite's thread, so the event loop never
blocks on another connection. The thread has nothing of this connection's in flight then:
its queue runs in order and the lock was taken by the last item awaited.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]
BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"  # how a writer session begins (see `engine._begin`)


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return None, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor that holds no driver cursor between statements."""

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._outcome: Outcome = (None, [], -1, None)

    @property
    def description(self) -> Any:
        return self._outcome[0]

    @property
    def rowcount(self) -> int:
        return self._outcome[2]

    @property
    def lastrowid(self) -> Any:
        return self._outcome[3]

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        return None  # nothing is held open

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._in_thread(_run, operation, parameters)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._in_thread(_run_many, operation, seq_of_parameters)

    async def _in_thread(self, step: Any, operation: Any, parameters: Any) -> None:
        adapt: Any = self._adapt_connection
        async with adapt._execute_mutex:
            connection: Any = self._connection
            if adapt.writing:
                self._outcome = step(connection._conn, operation, parameters)
            else:
                self._outcome = await connection._execute(step, connection._conn, operation,
                                                          parameters)
                adapt.writing = operation == BEGIN_IMMEDIATE
            self._rows = collections.deque(self._outcome[1])


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    _cursor_cls = OneHopCursor  # type: ignore[assignment]  # a subclass; mypy sees the stub
    writing = False  # holds the write lock: statements run on the calling thread

    def commit(self) -> None:
        self.writing = False
        super().commit()

    def rollback(self) -> None:
        self.writing = False
        super().rollback()

    def close(self) -> None:
        self.writing = False
        super().close()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect is given (`module=`)."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        # Statements of a write transaction run on the event loop's thread (see above).
        connection = self.aiosqlite.connect(*arg, **{**kw, "check_same_thread": False})
        connection._thread.daemon = True  # as SQLAlchemy does: never hold the process open
        return OneHopConnection(self, await_(connection))
