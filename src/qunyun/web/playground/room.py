"""Who is in a playground group and who may speak: members, mutes and the group mute.

Read from the database (memberships and delivered actions), so it holds after a restart. A mute
lasts `seconds` from its delivery, by the runtime's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Group, Membership, Person, PlatformAccount
from qunyun.community.roles import MEMBERSHIP_ACTIVE
from qunyun.core import actions as A
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.outbox import DONE

ROSTER_LIMIT = 500  # the most recently active members offered in the picker
LONGEST_MUTE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Member:
    pid: str  # the platform id
    name: str
    muted_until: datetime | None = None
    role: str = "member"


@dataclass(frozen=True, slots=True)
class Room:
    members: list[Member]
    all_muted: bool

    def find(self, pid: str) -> Member | None:
        return next((m for m in self.members if m.pid == pid), None)

    def names(self) -> dict[str, str]:
        return {m.pid: m.name for m in self.members}


async def load_room(session: AsyncSession, group: Group, now: datetime,
                    limit: int = ROSTER_LIMIT) -> Room:
    rows = await session.execute(
        select(PlatformAccount.platform_user_id, Person.display_name, Membership.role)
        .join(Membership, Membership.person_id == PlatformAccount.person_id)
        .join(Person, Person.id == PlatformAccount.person_id)
        .where(Membership.group_id == group.id, Membership.status == MEMBERSHIP_ACTIVE,
               PlatformAccount.org_id == group.org_id,
               PlatformAccount.platform == group.platform)
        .order_by(Membership.last_active_at.desc().nulls_last(), Membership.id.desc())
        .limit(limit))
    mutes = await muted_until(session, group, now)
    members = [Member(pid, name or pid, mutes.get(pid), role) for pid, name, role in rows]
    return Room(members, await group_muted(session, group))


async def is_member(session: AsyncSession, group: Group, pid: str) -> str | None:
    """The display name of `pid` if it is in the group now, else None."""
    row = await session.execute(
        select(Person.display_name)
        .join(PlatformAccount, PlatformAccount.person_id == Person.id)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.group_id == group.id, Membership.status == MEMBERSHIP_ACTIVE,
               PlatformAccount.org_id == group.org_id,
               PlatformAccount.platform == group.platform,
               PlatformAccount.platform_user_id == pid).limit(1))
    found = row.scalar_one_or_none()
    return None if found is None else (found or pid)


async def muted_until(session: AsyncSession, group: Group, now: datetime) -> dict[str, datetime]:
    """Members muted at `now`, with the end of their mute (the latest mute action wins)."""
    rows = await session.execute(
        select(ActionRecord.member_pid, ActionRecord.data, ActionRecord.finished_at,
               ActionRecord.created_at)
        .where(ActionRecord.group_id == group.id, ActionRecord.type == A.MUTE_MEMBER,
               ActionRecord.status == DONE, ActionRecord.member_pid.is_not(None),
               ActionRecord.created_at >= now - LONGEST_MUTE)
        .order_by(ActionRecord.seq))
    until: dict[str, datetime] = {}
    for pid, data, finished, created in rows:
        assert pid is not None
        until[pid] = (finished or created) + timedelta(seconds=int(data.get("seconds", 0)))
    return {pid: end for pid, end in until.items() if end > now}


async def group_muted(session: AsyncSession, group: Group) -> bool:
    """Whether the bot's latest group mute is on."""
    data = await session.scalar(
        select(ActionRecord.data)
        .where(ActionRecord.group_id == group.id, ActionRecord.type == A.MUTE_ALL,
               ActionRecord.status == DONE)
        .order_by(ActionRecord.seq.desc()).limit(1))
    return bool(data and data.get("on"))
