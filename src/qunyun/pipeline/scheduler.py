"""Scheduled work stored as rows with a due time, fired as the logical clock passes it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.core.features import Job, JobRequest
from qunyun.db.dialect import insert_for
from qunyun.pipeline.models import ScheduledJob

PENDING = "pending"
FIRED = "fired"


def job_id(feature: str, key: str) -> str:
    return "j" + hashlib.sha1(f"{feature}\x1f{key}".encode()).hexdigest()[:24]


_INSERTS: dict[tuple[str, bool], Any] = {}  # (dialect name, returning) -> the statement


def _insert_job(session: AsyncSession, *, returning: bool = False) -> Any:
    """INSERT … ON CONFLICT DO NOTHING of jobs, values as parameters (`returning`: the ids of
    the new ones): built once per dialect (building it with the values costs more than
    running it)."""
    key = (session.get_bind().dialect.name, returning)
    statement = _INSERTS.get(key)
    if statement is None:
        statement = insert_for(session, ScheduledJob).on_conflict_do_nothing(
            index_elements=["id"])
        if returning:
            statement = statement.returning(ScheduledJob.__table__.c.id)
        _INSERTS[key] = statement
    return statement


class Scheduler:
    """Keeps the earliest pending due time in memory so the hot path asks nothing of the database
    until something is actually due.

    The pipeline's own unit of work `queue`s its jobs: they are written together with the next
    scheduler query (or `write_queued` before commit). When the earliest job in the database
    is not due but queued ones are, those fire from memory once written (the INSERT says which
    were new), with no query. Jobs fired in a unit of work are marked in the database together,
    by `write_fired` before commit (`take_due` skips them meanwhile)."""

    def __init__(self) -> None:
        self._next_due: datetime | None = None  # the earliest pending job in the database
        self._loaded = False
        self._fired: dict[str, datetime] = {}  # job id -> fired at, not written yet
        self._queued: dict[str, dict[str, Any]] = {}  # job id -> row, not written yet
        self._queued_first: datetime | None = None

    def forget(self) -> None:
        self._loaded = False

    def rolled_back(self) -> None:
        """The unit of work failed: its fired jobs are pending again, its queued ones gone."""
        self._fired.clear()
        self._queued.clear()
        self._queued_first = None
        self._loaded = False

    def nothing_due_by(self, until: datetime) -> bool:
        """True when the cached earliest due time shows nothing is due by `until` (so a tick
        need not open a transaction); False when unknown."""
        return self._loaded and (self._next_due is None or self._next_due > until) \
            and (self._queued_first is None or self._queued_first > until)

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
        await session.execute(_insert_job(session), {
            "id": job_id(feature, key), "org_id": org_id, "group_id": group_id,
            "feature": feature, "kind": request.kind, "key": key, "due_at": request.due_at,
            "payload": request.payload, "status": PENDING})
        if self._loaded and (self._next_due is None or request.due_at < self._next_due):
            self._next_due = request.due_at

    def queue(self, *, org_id: int, group_id: int | None, feature: str, request: JobRequest,
              caused_by: str) -> None:
        """`add` for the pipeline's unit of work: the job is written with the next scheduler
        query or by `write_queued` (the same key again is a no-op all the same)."""
        key = request.key or f"{caused_by}:{request.kind}"
        queued_id = job_id(feature, key)
        self._queued.setdefault(queued_id, {
            "id": queued_id, "org_id": org_id, "group_id": group_id, "feature": feature,
            "kind": request.kind, "key": key, "due_at": request.due_at,
            "payload": request.payload, "status": PENDING})
        if self._queued_first is None or request.due_at < self._queued_first:
            self._queued_first = request.due_at

    async def write_queued(self, session: AsyncSession) -> list[dict[str, Any]]:
        """Insert the queued jobs, skipping keys already scheduled; the rows that were new."""
        if not self._queued:
            return []
        rows = list(self._queued.values())
        self._queued, self._queued_first = {}, None
        # Many rows go as multi-row INSERTs (SQLAlchemy keeps within the backend's limit on
        # parameters); one row, the common case, as a single statement, which costs less.
        statement = _insert_job(session, returning=True)
        written = await session.execute(statement, rows[0] if len(rows) == 1 else rows)
        new_ids = set(written.scalars())
        new = [row for row in rows if row["id"] in new_ids]
        for row in new:
            if self._loaded and (self._next_due is None or row["due_at"] < self._next_due):
                self._next_due = row["due_at"]
        return new

    async def take_due(self, session: AsyncSession, until: datetime, limit: int = 500
                       ) -> list[tuple[int, Job]]:
        """Pending jobs due at or before `until`, oldest first; marks them fired."""
        if self._queued_first is not None and self._queued_first <= until:
            known, earliest = self._loaded, self._next_due
            new = await self.write_queued(session)
            if known and (earliest is None or earliest > until):  # only new ones are due
                return self._take_new(new, earliest, until, limit)
        if (await self.next_due(session)) is None or self._next_due is None \
                or self._next_due > until:
            return []
        await session.flush()
        # The earliest pending jobs, one more than may fire: the first not due yet is the new
        # earliest due time, so no second query is needed for it. Jobs fired earlier in this
        # unit of work still read as pending: they come first, and are left out.
        fired = self._fired
        rows = [r for r in (await session.execute(
            select(ScheduledJob.id, ScheduledJob.org_id, ScheduledJob.feature,
                   ScheduledJob.kind, ScheduledJob.due_at, ScheduledJob.payload,
                   ScheduledJob.group_id)
            .where(ScheduledJob.status == PENDING)
            .order_by(ScheduledJob.due_at, ScheduledJob.id).limit(limit + 1 + len(fired))))
            .all() if r.id not in fired][:limit + 1]
        due = [r for r in rows[:limit] if r.due_at <= until]
        later = next((r for r in rows if r.due_at > until), None)
        self._next_due = later.due_at if later is not None else None
        self._loaded = later is not None or len(rows) <= limit
        for row in due:
            fired[row.id] = until
        return [(r.org_id, Job(id=r.id, feature=r.feature, kind=r.kind, due_at=r.due_at,
                               payload=dict(r.payload), group_id=r.group_id)) for r in due]

    def _take_new(self, new: list[dict[str, Any]], earliest: datetime | None, until: datetime,
                  limit: int) -> list[tuple[int, Job]]:
        """Fire the due ones of jobs just written as new, when nothing older is due: what the
        query would have found, without asking."""
        pending = sorted(new, key=lambda row: (row["due_at"], row["id"]))
        due = [row for row in pending[:limit] if row["due_at"] <= until]
        for row in due:
            self._fired[row["id"]] = until
        rest = [row["due_at"] for row in pending[len(due):]]
        self._next_due = min([*rest, *([earliest] if earliest is not None else [])],
                             default=None)
        # As read back from the database: the payload through JSON, the time in UTC.
        return [(row["org_id"], Job(id=row["id"], feature=row["feature"], kind=row["kind"],
                                    due_at=row["due_at"].astimezone(UTC),
                                    payload=json.loads(json.dumps(row["payload"])),
                                    group_id=row["group_id"])) for row in due]

    async def write_fired(self, session: AsyncSession) -> None:
        """Mark the jobs fired in this unit of work, in one statement (before commit)."""
        if self._fired:
            rows = [{"job_id": job, "at": at} for job, at in sorted(self._fired.items())]
            self._fired = {}
            table = cast(Table, ScheduledJob.__table__)  # Core: a plain executemany
            await session.execute(
                update(table).where(table.c.id == bindparam("job_id"))
                .values(status=FIRED, fired_at=bindparam("at", type_=table.c.fired_at.type)),
                rows)
