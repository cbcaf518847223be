"""The only code that writes the stats rollups. Counts are accumulated per unit of work and
written once before commit: one upsert per touched group-day, not one per event."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.core.clock import local_day
from qunyun.db.dialect import among, bulk_insert, insert_for
from qunyun.features.stats.models import DailySpeaker, DailyStats

COUNTERS = ("joins", "leaves", "messages", "first_messages")
GroupDay = tuple[int, date]


__all__ = ["COUNTERS", "StatsAccumulator", "do_write", "local_day"]

@dataclass
class StatsAccumulator:
    counts: defaultdict[GroupDay, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter))
    speakers: set[tuple[int, date, int]] = field(default_factory=set)

    def count(self, key: GroupDay, counter: str) -> None:
        self.counts[key][counter] += 1

    def speaker(self, key: GroupDay, person_id: int) -> None:
        self.speakers.add((key[0], key[1], person_id))
        self.counts[key]  # the group-day gets a row even with no other count


async def do_write(session: AsyncSession, acc: StatsAccumulator) -> None:
    if not acc.counts:
        return
    upsert = insert_for(session, DailyStats)
    rows = [{"group_id": g, "day": d, "speakers": 0, **{c: counts.get(c, 0) for c in COUNTERS}}
            for (g, d), counts in sorted(acc.counts.items())]
    statement = upsert.on_conflict_do_update(
        index_elements=["group_id", "day"],
        set_={c: getattr(DailyStats, c) + getattr(upsert.excluded, c) for c in COUNTERS})
    await session.execute(statement, rows)
    if acc.speakers:
        await bulk_insert(session, DailySpeaker, [{"group_id": g, "day": d, "person_id": p}
                                                  for g, d, p in sorted(acc.speakers)],
                          skip_conflicts=True)
        touched = sorted({(g, d) for g, d, _ in acc.speakers})
        distinct = (select(func.count()).select_from(DailySpeaker)
                    .where(DailySpeaker.group_id == DailyStats.group_id,
                           DailySpeaker.day == DailyStats.day)
                    .scalar_subquery())
        await session.execute(update(DailyStats)
                              .where(among(session, DailyStats.group_id, DailyStats.day,
                                           values=touched))
                              .values(speakers=distinct))
    acc.counts.clear()
    acc.speakers.clear()


async def get_daily(session: AsyncSession, *, group_id: int, start: date | None = None,
                    end: date | None = None) -> list[DailyStats]:
    query = select(DailyStats).where(DailyStats.group_id == group_id)
    if start is not None:
        query = query.where(DailyStats.day >= start)
    if end is not None:
        query = query.where(DailyStats.day <= end)
    return list((await session.scalars(query.order_by(DailyStats.day))).all())
