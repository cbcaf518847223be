"""Scheduled work stored as rows with a due time, fired as the logical clock passes it."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.core.features import Job, JobRequest
from qunyun.db.dialect import insert_for
from qunyun.pipeline.models import ScheduledJob

PENDING = "pending"
FIRED = "fired"


def job_id(feature: str, key: str) -> str:
    return "j" + hashlib.sha1(f"{feature}\x1f{key}".encode()).hexdigest()[:24]


class Scheduler:
    """Keeps the earliest pending due time in memory so the hot path asks nothing of the database
    until something is actually due."""

    def __init__(self) -> None:
        self._next_due: datetime | None = None
        self._loaded = False

    def forget(self) -> None:
        self._loaded = False

    def nothing_due_by(self, until: datetime) -> bool:
        """True when the cached earliest due time shows nothing is due by `until` (so a tick
        need not open a transaction); False when unknown."""
        return self._loaded and (self._next_due is None or self._next_due > until)

    async def next_due(self, session: AsyncSession) -> datetime | None:
        if not self._loaded:
            # Jobs added in this unit of work since the cache was dropped are not flushed yet
            # (sessions don't autoflush): write them so the query sees them.
            await session.flush()
            self._next_due = await session.scalar(
                select(func.min(ScheduledJob.due_at)).where(ScheduledJob.status == PENDING))
            self._loaded = True
        return self._next_due

    async def add(self, session: AsyncSession, *, org_id: int, group_id: int | None,
                  feature: str, request: JobRequest, caused_by: str) -> None:
        key = request.key or f"{caused_by}:{request.kind}"
        # The same key scheduled again is a no-op; written at once, so a job handler's job and
        # features without a savepoint are seen by the next query.
        await session.execute(
            insert_for(session, ScheduledJob)
            .values(id=job_id(feature, key), org_id=org_id, group_id=group_id, feature=feature,
                    kind=request.kind, key=key, due_at=request.due_at, payload=request.payload,
                    status=PENDING)
            .on_conflict_do_nothing(index_elements=["id"]))
        if self._loaded and (self._next_due is None or request.due_at < self._next_due):
            self._next_due = request.due_at

    async def take_due(self, session: AsyncSession, until: datetime, limit: int = 500
                       ) -> list[tuple[int, Job]]:
        """Pending jobs due at or before `until`, oldest first; marks them fired."""
        if (await self.next_due(session)) is None or self._next_due is None \
                or self._next_due > until:
            return []
        await session.flush()
        # The earliest pending jobs, one more than may fire: the first not due yet is the new
        # earliest due time, so no second query is needed for it.
        rows = (await session.execute(
            select(ScheduledJob.id, ScheduledJob.org_id, ScheduledJob.feature,
                   ScheduledJob.kind, ScheduledJob.due_at, ScheduledJob.payload,
                   ScheduledJob.group_id)
            .where(ScheduledJob.status == PENDING)
            .order_by(ScheduledJob.due_at, ScheduledJob.id).limit(limit + 1))).all()
        due = [r for r in rows[:limit] if r.due_at <= until]
        later = next((r for r in rows if r.due_at > until), None)
        self._next_due = later.due_at if later is not None else None
        self._loaded = later is not None or len(rows) <= limit
        if due:
            await session.execute(update(ScheduledJob)
                                  .where(ScheduledJob.id.in_([r.id for r in due]))
                                  .values(status=FIRED, fired_at=until))
        return [(r.org_id, Job(id=r.id, feature=r.feature, kind=r.kind, due_at=r.due_at,
                               payload=dict(r.payload), group_id=r.group_id)) for r in due]
