"""Step 3 of the unit of work: apply an event to the community model and describe who it is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from qunyun.community.identity import GroupRow, IdentityBatch, MembershipRow
from qunyun.community.roles import MEMBERSHIP_KICKED, MEMBERSHIP_LEFT
from qunyun.core import events as E
from qunyun.core.events import Event
from qunyun.core.features import MemberInfo

UserKey = tuple[str, str]


def platform_keys(events: Iterable[Event]
                  ) -> tuple[set[tuple[str, str]], dict[UserKey, tuple[str, datetime]]]:
    """The groups and users a batch mentions, for one preload; users with the first name
    and time they are seen by (to create the ones qunyun has never seen)."""
    groups: set[tuple[str, str]] = set()
    users: dict[UserKey, tuple[str, datetime]] = {}
    for event in events:
        if event.group is not None:
            groups.add((event.platform, event.group))
        if event.member is not None:
            key = (event.platform, event.member)
            name = event.data.get("name")
            if key not in users or (not users[key][0] and isinstance(name, str) and name):
                users[key] = (name if isinstance(name, str) else "", event.at)
        for field in ("inviter", "by"):
            other = event.data.get(field)
            if isinstance(other, str):
                users.setdefault((event.platform, other), ("", event.at))
    return groups, users


async def resolve_group(ids: IdentityBatch, event: Event) -> GroupRow | None:
    if event.group is None:
        return None
    name = event.data.get("name") if event.type in (E.GROUP_CREATED, E.GROUP_UPDATED) else None
    group = await ids.group(event.platform, event.group, event.at, name)
    if event.type in (E.GROUP_CREATED, E.GROUP_UPDATED):
        await ids.update_group(group, {k: event.data[k] for k in ("name", "capacity", "notice")
                                       if event.data.get(k) is not None})
    elif event.type == E.GROUP_DISMISSED:
        await ids.dismiss_group(group, event.at)
    return group


async def resolve_member(ids: IdentityBatch, event: Event,
                         group: GroupRow | None) -> MemberInfo | None:
    if event.member is None:
        return None
    name = str(event.data.get("name") or "")
    person_id = await ids.person(event.platform, event.member, event.at, name)
    if event.type == E.MEMBER_RENAMED:
        await ids.rename_person(person_id, event.platform, event.member, name)
    if group is None or event.type == E.MEMBER_JOIN_REQUESTED:  # an applicant is not inside
        return MemberInfo(person_id, None, "member", "none", None, None, False, 0, False)
    if event.type == E.MEMBER_JOINED:
        return await _joined(ids, event, group, person_id)
    if event.type == E.MEMBER_LEFT:
        return await _left(ids, event, group, person_id)
    row = ids.open_membership(group.id, person_id)
    new = row is None
    if row is None:
        row = await ids.open_period(group.id, person_id, joined_at=None, seen_before_join=True)
    before = row.message_count
    if event.type == E.MESSAGE_POSTED:
        ids.record_message(row, event.at)
    elif event.type == E.MEMBER_ROLE_CHANGED:
        await ids.set_role(row, str(event.data["role"]))
    return _info(row, new, before)


async def _joined(ids: IdentityBatch, event: Event, group: GroupRow,
                  person_id: int) -> MemberInfo:
    row = ids.open_membership(group.id, person_id)
    if row is not None:  # a join we already know of (platforms resend): no new period
        return _info(row, False, row.message_count)
    inviter = event.data.get("inviter")
    inviter_id = await ids.person(event.platform, inviter, event.at) if inviter else None
    row = await ids.open_period(group.id, person_id, joined_at=event.at,
                                inviter_person_id=inviter_id, via=event.data.get("via"),
                                code=event.data.get("code"))
    return _info(row, True, 0)


async def _left(ids: IdentityBatch, event: Event, group: GroupRow, person_id: int) -> MemberInfo:
    reason = str(event.data.get("reason", "quit"))
    status = MEMBERSHIP_KICKED if reason == "kicked" else MEMBERSHIP_LEFT
    if ids.open_membership(group.id, person_id) is None:
        # Someone who was inside before qunyun saw the group: record the period it ends.
        await ids.open_period(group.id, person_id, joined_at=None, seen_before_join=True)
    row = await ids.close_period(group.id, person_id, at=event.at, status=status, reason=reason)
    assert row is not None
    return _info(row, False, row.message_count)


def _info(row: MembershipRow, new: bool, before: int) -> MemberInfo:
    return MemberInfo(row.person_id, row.id, row.role, row.status, row.member_no,
                      row.joined_at, new, before, row.seen_before_join)
