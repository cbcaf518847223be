"""Choosing the groups of one organization a playbook goes to.

Either named groups (`platform:id` or the group's number), or filters (community, tag, purpose)
that all must match, or every active group. An empty selection is an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Community, Group, GroupTag, Tag
from qunyun.community.queries import group_query
from qunyun.community.roles import GROUP_ACTIVE, PURPOSES
from qunyun.core.errors import InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class GroupSelection:
    groups: tuple[str, ...] = ()
    community: str | None = None
    tag: str | None = None
    purpose: str | None = None
    all: bool = False

    @property
    def has_filters(self) -> bool:
        return any(v is not None for v in (self.community, self.tag, self.purpose))


async def find_community(session: AsyncSession, *, org_id: int, name: str) -> int:
    """The id of the organization's community called `name`."""
    community_id = await session.scalar(select(Community.id).where(
        Community.org_id == org_id, Community.name == name))
    if community_id is None:
        raise NotFound("no community named {name}", name=name)
    return community_id


async def resolve_selection(session: AsyncSession, *, org_id: int,
                            selection: GroupSelection) -> list[int]:
    """The ids of the selected groups, in id order."""
    ways = sum((bool(selection.groups), selection.has_filters, selection.all))
    if ways == 0:
        raise InvalidInput("choose groups by name, by community, tag or type, or all of them")
    if ways > 1:
        raise InvalidInput("choose groups one way only: by name, by filters, or all of them")
    if selection.groups:
        ids = await _named_groups(session, org_id, selection.groups)
    else:
        ids = await _filtered_groups(session, org_id, selection)
    if not ids:
        raise InvalidInput("no group matches the selection")
    return sorted(set(ids))


async def check_groups_of_org(session: AsyncSession, *, org_id: int,
                              group_ids: Iterable[int]) -> list[int]:
    """The ids, deduplicated and sorted, once each is known to be a group of the organization."""
    wanted = sorted(set(group_ids))
    if not wanted:
        raise InvalidInput("no group matches the selection")
    found = set((await session.scalars(
        select(Group.id).where(Group.org_id == org_id, Group.id.in_(wanted)))).all())
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise NotFound("no group {group} in this organization", group=", ".join(missing))
    return wanted


async def _named_groups(session: AsyncSession, org_id: int, refs: Iterable[str]) -> list[int]:
    ids: list[int] = []
    missing: list[str] = []
    for ref in refs:
        found = await session.scalar(group_query(org_id, ref).with_only_columns(Group.id))
        if found is None:
            missing.append(ref)
        else:
            ids.append(found)
    if missing:
        raise NotFound("no group {group} in this organization", group=", ".join(missing))
    return ids


async def _filtered_groups(session: AsyncSession, org_id: int,
                           selection: GroupSelection) -> list[int]:
    query = select(Group.id).where(Group.org_id == org_id, Group.status == GROUP_ACTIVE)
    if selection.community is not None:
        community_id = await find_community(session, org_id=org_id, name=selection.community)
        query = query.where(Group.community_id == community_id)
    if selection.tag is not None:
        tag_id = await session.scalar(select(Tag.id).where(Tag.org_id == org_id,
                                                           Tag.name == selection.tag))
        if tag_id is None:
            raise NotFound("no tag named {name}", name=selection.tag)
        query = query.join(GroupTag, GroupTag.group_id == Group.id).where(GroupTag.tag_id == tag_id)
    if selection.purpose is not None:
        if selection.purpose not in PURPOSES:
            raise InvalidInput("type must be one of: {choices}", choices=", ".join(PURPOSES))
        query = query.where(Group.purpose == selection.purpose)
    return list((await session.scalars(query)).all())
