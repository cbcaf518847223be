"""The unit of work: one transaction, per-batch scratch space, and hooks run before commit.

Services change state through `uow.session`; only whoever opened the unit of work commits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")
Hook = Callable[[AsyncSession], Awaitable[None]]


class UnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._scratch: dict[str, Any] = {}
        self._hooks: dict[str, Hook] = {}

    @property
    def session(self) -> AsyncSession:
        return self._session

    def scratch(self, key: str, factory: Callable[[], T]) -> T:
        """Per-transaction state (accumulators flushed by a pre-commit hook)."""
        if key not in self._scratch:
            self._scratch[key] = factory()
        value: T = self._scratch[key]
        return value

    def before_commit(self, key: str, hook: Hook) -> None:
        """Register `hook` once under `key`; hooks run in registration order before commit."""
        self._hooks.setdefault(key, hook)

    async def flush(self) -> None:
        # A hook may register another hook (one accumulator feeding another): run until none left.
        done: set[str] = set()
        while len(done) < len(self._hooks):
            for key, hook in list(self._hooks.items()):
                if key not in done:
                    done.add(key)
                    await hook(self._session)
        await self._session.flush()

    async def commit(self) -> None:
        await self.flush()
        await self._session.commit()
        self._reset()

    async def rollback(self) -> None:
        await self._session.rollback()
        self._reset()

    def _reset(self) -> None:
        self._scratch.clear()
        self._hooks.clear()


async def run_in_transaction(
    sessions: async_sessionmaker[AsyncSession], work: Callable[[UnitOfWork], Awaitable[T]]
) -> T:
    """Open a unit of work, run `work`, commit on success, roll back on error."""
    async with sessions() as session:
        uow = UnitOfWork(session)
        try:
            result = await work(uow)
            await uow.commit()
            return result
        except BaseException:
            await uow.rollback()
            raise
