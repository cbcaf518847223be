"""A group that the platform gave a new id (Telegram: a group upgraded to a supergroup).

It is still the same group: the row keeps its id, so its members, history, settings and
statistics stay with it; only the platform id it is known by changes.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Group

MigrationOutcome = Literal["migrated", "already", "unknown", "conflict"]


async def do_migrate_group(session: AsyncSession, *, org_id: int, platform: str, old_id: str,
                           new_id: str) -> MigrationOutcome:
    """Re-key the group `old_id` to `new_id`. Doing it twice has one effect.

    `already`: the group is known by the new id only (migrated before). `unknown`: neither id
    is known (nothing to move; the new id will create the group on first sight). `conflict`:
    both ids are known as two groups; nothing is changed and the caller reports it.
    """
    rows = (await session.scalars(
        select(Group).where(Group.org_id == org_id, Group.platform == platform,
                            Group.platform_id.in_([old_id, new_id])))).all()
    by_id = {row.platform_id: row for row in rows}
    old, new = by_id.get(old_id), by_id.get(new_id)
    if old is not None and new is not None:
        return "conflict"
    if old is None:
        return "already" if new is not None else "unknown"
    old.platform_id = new_id
    await session.flush()
    return "migrated"
