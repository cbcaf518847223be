"""Resolving platform ids to groups, persons and memberships, creating them on first sight.

The pipeline resolves a whole batch at once: `preload` reads every known group, account and open
membership the batch mentions in three queries; then `resolve_*` answers from memory and only
touches the database for what is new. Message activity on memberships is accumulated and written
once per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, event, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState

from qunyun.community.models import Community, Group, Membership, Person, PlatformAccount
from qunyun.community.roles import MEMBERSHIP_ACTIVE
from qunyun.db.dialect import among


@dataclass(slots=True)
class GroupRow:
    id: int
    org_id: int
    community_id: int | None
    platform: str
    platform_id: str
    name: str
    purpose: str
    status: str
    playbook_id: int | None


@dataclass(slots=True)
class MembershipRow:
    id: int
    person_id: int
    role: str
    status: str
    member_no: int | None
    joined_at: datetime | None
    message_count: int
    seen_before_join: bool


@dataclass(slots=True)
class _Activity:
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None


@dataclass
class IdentityBatch:
    """Identities for one unit of work of one organization."""

    session: AsyncSession
    org_id: int
    groups: dict[tuple[str, str], GroupRow] = field(default_factory=dict)
    persons: dict[tuple[str, str], int] = field(default_factory=dict)
    memberships: dict[tuple[int, int], MembershipRow] = field(default_factory=dict)
    activity: dict[int, _Activity] = field(default_factory=dict)
    default_community_id: int | None = None
    # SQLite: memberships opened but not written yet, and the id the next one gets (see
    # `_start_deferring`). On PostgreSQL each is inserted when opened.
    _deferring: bool = field(init=False, repr=False)
    _new_memberships: list[dict[str, object]] = field(default_factory=list, init=False,
                                                      repr=False)
    _next_id: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._deferring = self.session.get_bind().dialect.name != "postgresql"

    async def _start_deferring(self) -> None:
        """On SQLite a row-by-row INSERT … RETURNING per new membership is the costliest part of
        first sight. There the batch gives the ids itself (the ones SQLite would pick: max + 1,
        …; the writer holds the write lock and nothing else inserts memberships) and writes the
        new rows together just before the session's next statement or SAVEPOINT, whatever it
        is: anything that reads or updates memberships sees them, and no savepoint rolled
        back by a failing feature can take them away."""
        highest = await self.session.scalar(select(func.max(Membership.id)))
        self._next_id = (highest or 0) + 1
        connection = (await self.session.connection()).sync_connection
        assert connection is not None
        event.listen(self.session.sync_session, "do_orm_execute", self._write_before_statement)
        event.listen(connection, "savepoint", self._write_before_savepoint)

    def _write_before_statement(self, state: ORMExecuteState) -> None:
        if self._new_memberships:
            # Asking for the connection first emits a SAVEPOINT still pending (one begins
            # lazily, with its first statement): the rows go in before it, not inside it.
            self._write_before_savepoint(state.session.connection(), None)

    def _write_before_savepoint(self, connection: Connection, _name: str | None) -> None:
        if self._new_memberships:
            rows, self._new_memberships = self._new_memberships, []
            connection.execute(insert(_MEMBERSHIPS), rows)

    async def _next_membership_id(self) -> int:
        if self._next_id is None:
            await self._start_deferring()
            assert self._next_id is not None
        membership_id, self._next_id = self._next_id, self._next_id + 1
        return membership_id

    async def write_new_memberships(self) -> None:
        """Write the memberships opened since the last statement (see
        `_start_deferring`); statements through the session do it on their own."""
        if self._new_memberships:
            rows, self._new_memberships = self._new_memberships, []
            await self.session.execute(insert(_MEMBERSHIPS), rows)

    async def preload(self, platform_groups: Iterable[tuple[str, str]],
                      platform_users: Mapping[tuple[str, str], tuple[str, datetime]]) -> None:
        """Load what the batch mentions; create the persons seen for the first time in bulk."""
        group_keys = set(platform_groups) - set(self.groups)
        user_keys = set(platform_users) - set(self.persons)
        if group_keys:
            rows = await self.session.execute(
                select(Group).where(Group.org_id == self.org_id,
                                    among(self.session, Group.platform, Group.platform_id,
                                          values=group_keys)))
            for group in rows.scalars():
                self.groups[(group.platform, group.platform_id)] = _group_row(group)
        if user_keys:
            await self._load_accounts(user_keys)
            unknown = sorted(user_keys - set(self.persons))
            if unknown:
                await self._create_persons({k: platform_users[k] for k in unknown})
        group_ids = {g.id for g in self.groups.values()}
        person_ids = set(self.persons.values())
        if group_ids and person_ids:
            await self._preload_memberships(group_ids, person_ids)

    async def _load_accounts(self, keys: set[tuple[str, str]]) -> None:
        by_platform: dict[str, list[str]] = {}
        for platform, user_id in sorted(keys):
            by_platform.setdefault(platform, []).append(user_id)
        account = PlatformAccount
        for platform, user_ids in by_platform.items():
            rows = await self.session.execute(
                select(account.platform_user_id, account.person_id)
                .where(account.org_id == self.org_id, account.platform == platform,
                       among(self.session, account.platform_user_id, values=user_ids)))
            for user_id, person_id in rows:
                self.persons[(platform, user_id)] = person_id

    async def _create_persons(self, seen: Mapping[tuple[str, str], tuple[str, datetime]]
                              ) -> None:
        keys = list(seen)
        rows = [{"org_id": self.org_id, "display_name": seen[k][0] or k[1], "interests": [],
                 "first_seen_at": seen[k][1]} for k in keys]
        ids = await self._insert_returning_ids(Person, rows)
        await self.session.execute(insert(PlatformAccount), [
            {"org_id": self.org_id, "person_id": pid, "platform": k[0], "platform_user_id": k[1],
             "display_name": seen[k][0] or k[1]} for k, pid in zip(keys, ids, strict=True)])
        self.persons.update(zip(keys, ids, strict=True))

    async def _insert_returning_ids(self, model: type[Person], rows: list[dict[str, object]]
                                    ) -> list[int]:
        """Insert `rows`; their ids, in order. PostgreSQL returns them sorted by parameter order.
        SQLite can only do that row by row, so there the ids are given explicitly: the ones
        it would pick itself (max + 1, …), safe because the writer holds the write lock."""
        if self.session.get_bind().dialect.name == "postgresql":
            result = await self.session.execute(
                insert(model).returning(model.id, sort_by_parameter_order=True), rows)
            return list(result.scalars())
        highest = await self.session.scalar(select(func.max(model.id)))
        first = (highest or 0) + 1
        ids = list(range(first, first + len(rows)))
        await self.session.execute(insert(model), [{**row, "id": new_id}
                                                   for row, new_id in zip(rows, ids, strict=True)])
        return ids

    async def _preload_memberships(self, group_ids: set[int], person_ids: set[int]) -> None:
        # By person only: with both IN lists SQLite probes the (group, person) index for
        # every pair of the two (hundreds of thousands per batch); a person's few active
        # memberships in other groups are dropped here instead.
        m = Membership
        rows = await self.session.execute(
            select(m.id, m.group_id, m.person_id, m.role, m.status, m.member_no, m.joined_at,
                   m.message_count, m.seen_before_join)
            .where(among(self.session, m.person_id, values=person_ids),
                   m.status == MEMBERSHIP_ACTIVE))
        for mid, group_id, person_id, role, status, member_no, joined, count, seen in rows:
            if group_id not in group_ids:
                continue
            self.memberships.setdefault((group_id, person_id), MembershipRow(
                mid, person_id, role, status, member_no, joined, count or 0, bool(seen)))

    async def group(self, platform: str, platform_id: str, at: datetime,
                    name: str | None = None) -> GroupRow:
        key = (platform, platform_id)
        row = self.groups.get(key)
        if row is None:
            row = await self._create_group(platform, platform_id, at, name or "")
            self.groups[key] = row
        return row

    async def _create_group(self, platform: str, platform_id: str, at: datetime,
                            name: str) -> GroupRow:
        if self.default_community_id is None:
            self.default_community_id = await self.session.scalar(
                select(Community.id).where(Community.org_id == self.org_id)
                .order_by(Community.id).limit(1))
        group = Group(org_id=self.org_id, community_id=self.default_community_id,
                      platform=platform, platform_id=platform_id, name=name or platform_id,
                      purpose="other", status="active", notice="", created_at=at)
        self.session.add(group)
        await self.session.flush()
        return _group_row(group)

    async def person(self, platform: str, user_id: str, at: datetime, name: str = "") -> int:
        key = (platform, user_id)
        person_id = self.persons.get(key)
        if person_id is None:
            person = Person(org_id=self.org_id, display_name=name or user_id, interests=[],
                            first_seen_at=at)
            self.session.add(person)
            await self.session.flush()
            self.session.add(PlatformAccount(org_id=self.org_id, person_id=person.id,
                                             platform=platform, platform_user_id=user_id,
                                             display_name=name or user_id))
            person_id = self.persons[key] = person.id
        return person_id

    def group_by_id(self, group_id: int) -> GroupRow | None:
        """A group this batch has resolved, by its id."""
        for row in self.groups.values():
            if row.id == group_id:
                return row
        return None

    def open_membership(self, group_id: int, person_id: int) -> MembershipRow | None:
        return self.memberships.get((group_id, person_id))

    async def open_period(self, group_id: int, person_id: int, *, joined_at: datetime | None,
                          seen_before_join: bool = False, inviter_person_id: int | None = None,
                          via: str | None = None, code: str | None = None) -> MembershipRow:
        """Open a new membership period (a join, or first sight of someone already inside)."""
        values = {"org_id": self.org_id, "group_id": group_id, "person_id": person_id,
                  "role": "member", "status": MEMBERSHIP_ACTIVE, "joined_at": joined_at,
                  "seen_before_join": seen_before_join, "inviter_person_id": inviter_person_id,
                  "join_via": via, "join_code": code, "message_count": 0}
        if not self._deferring:
            membership_id = await self.session.scalar(
                insert(Membership).returning(Membership.id), values)
            assert membership_id is not None
        else:
            membership_id = await self._next_membership_id()
            self._new_memberships.append({**values, "id": membership_id})
        row = MembershipRow(membership_id, person_id, "member", MEMBERSHIP_ACTIVE, None,
                            joined_at, 0, seen_before_join)
        self.memberships[(group_id, person_id)] = row
        return row

    async def close_period(self, group_id: int, person_id: int, *, at: datetime, status: str,
                           reason: str) -> MembershipRow | None:
        row = self.memberships.pop((group_id, person_id), None)
        if row is None:
            return None
        await self._flush_activity_of(row.id)
        await self.session.execute(_CLOSE_PERIOD, {"m_id": row.id, "m_status": status,
                                                   "m_at": at, "m_reason": reason})
        row.status = status
        return row

    async def close_all(self, group_id: int, *, at: datetime, status: str, reason: str) -> None:
        await self.flush_activity()
        await self.session.execute(
            update(Membership)
            .where(Membership.group_id == group_id, Membership.status == MEMBERSHIP_ACTIVE)
            .values(status=status, left_at=at, left_reason=reason))
        for key in [k for k in self.memberships if k[0] == group_id]:
            del self.memberships[key]

    def record_message(self, row: MembershipRow, at: datetime) -> None:
        """Count a message in the membership; written once per batch by `flush_activity`."""
        row.message_count += 1
        activity = self.activity.setdefault(row.id, _Activity())
        activity.count += 1
        if activity.first is None:
            activity.first = at
        if activity.last is None or at > activity.last:
            activity.last = at

    async def set_role(self, row: MembershipRow, role: str) -> None:
        """The member's role in the group changed on the platform (made admin, …)."""
        if row.role != role:
            row.role = role
            await self.session.execute(
                update(Membership).where(Membership.id == row.id).values(role=role))

    async def rename_person(self, person_id: int, platform: str, user_id: str,
                            name: str) -> None:
        await self.session.execute(
            update(Person).where(Person.id == person_id).values(display_name=name))
        await self.session.execute(
            update(PlatformAccount).where(PlatformAccount.org_id == self.org_id,
                                          PlatformAccount.platform == platform,
                                          PlatformAccount.platform_user_id == user_id)
            .values(display_name=name))

    async def update_group(self, row: GroupRow, values: dict[str, object]) -> None:
        """Apply a group.created/updated event's fields (name, capacity, notice)."""
        if values:
            await self.session.execute(update(Group).where(Group.id == row.id).values(**values))
            if isinstance(values.get("name"), str):
                row.name = str(values["name"])

    async def dismiss_group(self, row: GroupRow, at: datetime) -> None:
        await self.close_all(row.id, at=at, status="left", reason="dismissed")
        await self.session.execute(update(Group).where(Group.id == row.id)
                                   .values(status="dismissed", dismissed_at=at))
        row.status = "dismissed"

    async def _flush_activity_of(self, membership_id: int) -> None:
        activity = self.activity.pop(membership_id, None)
        if activity:
            await self._write_activity({membership_id: activity})

    async def flush_activity(self) -> None:
        await self.write_new_memberships()
        if self.activity:
            await self._write_activity(self.activity)
            self.activity = {}

    async def _write_activity(self, activity: dict[int, _Activity]) -> None:
        """Write the batch's message counts: one statement on PostgreSQL (arrays), one
        executemany elsewhere."""
        rows = sorted(activity.items())
        await self.write_new_memberships()  # the statement below bypasses the session's hook
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql":
            await connection.execute(_PG_ACTIVITY, {
                "ids": [mid for mid, _ in rows], "counts": [a.count for _, a in rows],
                "firsts": [a.first for _, a in rows], "lasts": [a.last for _, a in rows]})
            return
        table = cast(Table, Membership.__table__)
        when = table.c.last_active_at.type
        statement = (
            update(table).where(table.c.id == bindparam("m_id"))
            .values(message_count=table.c.message_count + bindparam("m_count"),
                    first_message_at=func.coalesce(table.c.first_message_at,
                                                   bindparam("m_first", type_=when)),
                    last_active_at=bindparam("m_last", type_=when)))
        await connection.execute(statement, [
            {"m_id": mid, "m_count": a.count, "m_first": a.first, "m_last": a.last}
            for mid, a in rows])


_MEMBERSHIPS = cast(Table, Membership.__table__)
# A period closed (left, kicked, …): built once, on the table (less work than the ORM's).
_CLOSE_PERIOD = (
    update(_MEMBERSHIPS).where(_MEMBERSHIPS.c.id == bindparam("m_id"))
    .values(status=bindparam("m_status"),
            left_at=bindparam("m_at", type_=_MEMBERSHIPS.c.left_at.type),
            left_reason=bindparam("m_reason")))
_PG_ACTIVITY = text("""
    UPDATE memberships AS m
    SET message_count = m.message_count + c.count,
        first_message_at = coalesce(m.first_message_at, c.first),
        last_active_at = c.last
    FROM unnest(CAST(:ids AS bigint[]), CAST(:counts AS integer[]),
                CAST(:firsts AS timestamptz[]), CAST(:lasts AS timestamptz[]))
         AS c(id, count, first, last)
    WHERE m.id = c.id
""")


def _group_row(group: Group) -> GroupRow:
    return GroupRow(id=group.id, org_id=group.org_id, community_id=group.community_id,
                    platform=group.platform, platform_id=group.platform_id, name=group.name,
                    purpose=group.purpose, status=group.status, playbook_id=group.playbook_id)


def _membership_row(m: Membership) -> MembershipRow:
    return MembershipRow(id=m.id, person_id=m.person_id, role=m.role, status=m.status,
                         member_no=m.member_no, joined_at=m.joined_at,
                         message_count=m.message_count or 0,
                         seen_before_join=bool(m.seen_before_join))
