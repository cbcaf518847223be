"""Groups of the organization: list with filters, read with tags, create, daily stats."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.communities import access_community
from qunyun.api.deps import ApiCaller, RuntimeDep, SessionDep
from qunyun.api.pagination import Page, PageDep, fetch_scalars
from qunyun.api.schemas import DailyStatsOut, GroupIn, GroupOut, GroupStatsOut
from qunyun.community.access import CONFIGURE, VIEW, Principal
from qunyun.community.access import access_group as access_group_of
from qunyun.community.models import Group, GroupTag, Tag
from qunyun.community.service import do_create_group
from qunyun.community.settings import (
    COMMUNITY_SECTION,
    CommunitySettings,
    GroupScope,
    load_layers,
    merge,
)
from qunyun.core.errors import Forbidden
from qunyun.features.stats.service import get_daily

router = APIRouter(tags=["groups"])


async def access_group(session: AsyncSession, caller: Principal, group_id: int,
                       permission: str = VIEW) -> Group:
    """The group if the caller may `permission` it: 404 in another organization, 403 outside
    the caller's scope."""
    return await access_group_of(session, caller, group_id, permission)


async def tags_of_groups(session: AsyncSession, group_ids: list[int]) -> dict[int, list[str]]:
    rows = await session.execute(
        select(GroupTag.group_id, Tag.name).join(Tag, Tag.id == GroupTag.tag_id)
        .where(GroupTag.group_id.in_(group_ids)).order_by(Tag.name))
    tags: dict[int, list[str]] = {}
    for group_id, name in rows:
        tags.setdefault(group_id, []).append(name)
    return tags


async def group_outs(session: AsyncSession, groups: list[Group]) -> list[GroupOut]:
    tags = await tags_of_groups(session, [g.id for g in groups]) if groups else {}
    return [GroupOut.model_validate(g).model_copy(update={"tags": tags.get(g.id, [])})
            for g in groups]


def _filtered(caller: Principal, community_id: int | None, platform: str | None,
              purpose: str | None, tag: str | None, group_status: str | None,
              q: str | None) -> Select[Group]:
    org_id = caller.org_id
    query = select(Group).where(caller.group_clause())
    if community_id is not None:
        query = query.where(Group.community_id == community_id)
    if platform:
        query = query.where(Group.platform == platform)
    if purpose:
        query = query.where(Group.purpose == purpose)
    if group_status:
        query = query.where(Group.status == group_status)
    if q:
        query = query.where(Group.name.icontains(q, autoescape=True))
    if tag:
        tagged = (select(GroupTag.group_id).join(Tag, Tag.id == GroupTag.tag_id)
                  .where(Tag.org_id == org_id, Tag.name == tag))
        query = query.where(Group.id.in_(tagged))
    return query.order_by(Group.id)


@router.get("/groups")
async def list_groups(
    caller: ApiCaller, session: SessionDep, page: PageDep,
    community_id: int | None = None, platform: str | None = None, purpose: str | None = None,
    tag: str | None = None, status: str | None = None,
    q: Annotated[str | None, Query(description="Name contains (case-insensitive).")] = None,
) -> Page[GroupOut]:
    query = _filtered(caller, community_id, platform, purpose, tag, status, q)
    groups, total = await fetch_scalars(session, query, page)
    return Page(items=await group_outs(session, groups), total=total)


@router.get("/groups/{group_id}")
async def get_group(group_id: int, caller: ApiCaller, session: SessionDep) -> GroupOut:
    group = await access_group(session, caller, group_id)
    return (await group_outs(session, [group]))[0]


@router.post("/groups", status_code=201)
async def create_group(body: GroupIn, caller: ApiCaller, session: SessionDep,
                       runtime: RuntimeDep) -> GroupOut:
    caller.require(CONFIGURE)
    if body.community_id is not None:
        await access_community(session, caller.org_id, body.community_id)
    if not caller.scope.whole_org and not (body.community_id in caller.scope.communities
                                           or body.store in caller.scope.stores):
        raise Forbidden("this group would be outside your scope")
    group = await do_create_group(
        session, org_id=caller.org_id, platform=body.platform, platform_id=body.platform_id,
        name=body.name, at=runtime.clock.now(), community_id=body.community_id,
        purpose=body.purpose, store=body.store, capacity=body.capacity, tags=body.tags)
    await session.commit()
    return (await group_outs(session, [group]))[0]


async def group_timezone(session: AsyncSession, group: Group) -> str:
    """The time zone the group's days are counted in (its effective community settings)."""
    layers = await load_layers(session, group.org_id)
    scope = GroupScope(group.org_id, group.community_id, group.playbook_id, group.id)
    values = merge(CommunitySettings().model_dump(), layers, scope, COMMUNITY_SECTION).values
    try:
        return CommunitySettings.model_validate(values).timezone
    except ValidationError:  # as the pipeline does: invalid stored settings count as defaults
        return CommunitySettings().timezone


@router.get("/groups/{group_id}/stats")
async def group_stats(
    group_id: int, caller: ApiCaller, session: SessionDep, runtime: RuntimeDep,
    days: Annotated[int, Query(ge=1, le=366, description="Days up to today.")] = 30,
) -> GroupStatsOut:
    """Daily rollups of the last `days` local days, today included; days without activity
    are listed with zeros."""
    group = await access_group(session, caller, group_id)
    timezone = await group_timezone(session, group)
    end = runtime.clock.now().astimezone(ZoneInfo(timezone)).date()
    start = end - timedelta(days=days - 1)
    rows = {r.day: r for r in await get_daily(session, group_id=group.id, start=start, end=end)}
    series = [DailyStatsOut.model_validate(rows[d]) if d in rows else DailyStatsOut(day=d)
              for d in (start + timedelta(days=i) for i in range(days))]
    return GroupStatsOut(group_id=group.id, timezone=timezone, start=start, end=end, days=series)
