"""Communities of the organization: list, read, create."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import ApiCaller, RuntimeDep, SessionDep
from qunyun.api.pagination import Page, PageDep, fetch_scalars
from qunyun.api.schemas import CommunityIn, CommunityOut
from qunyun.community.access import CONFIGURE
from qunyun.community.models import Community
from qunyun.community.service import do_create_community
from qunyun.core.errors import Forbidden, NotFound

router = APIRouter(tags=["communities"])


async def access_community(session: AsyncSession, org_id: int, community_id: int) -> Community:
    community = await session.scalar(select(Community).where(Community.org_id == org_id,
                                                             Community.id == community_id))
    if community is None:
        raise NotFound("no such community: {id}", id=community_id)
    return community


@router.get("/communities")
async def list_communities(caller: ApiCaller, session: SessionDep,
                           page: PageDep) -> Page[CommunityOut]:
    query = select(Community).where(Community.org_id == caller.org_id).order_by(Community.id)
    rows, total = await fetch_scalars(session, query, page)
    return Page(items=[CommunityOut.model_validate(r) for r in rows], total=total)


@router.get("/communities/{community_id}")
async def get_community(community_id: int, caller: ApiCaller,
                        session: SessionDep) -> CommunityOut:
    return CommunityOut.model_validate(
        await access_community(session, caller.org_id, community_id))


@router.post("/communities", status_code=201)
async def create_community(body: CommunityIn, caller: ApiCaller, session: SessionDep,
                           runtime: RuntimeDep) -> CommunityOut:
    caller.require(CONFIGURE)
    if not caller.scope.whole_org:
        raise Forbidden("only tokens for the whole organization may create communities")
    community = await do_create_community(
        session, org_id=caller.org_id, name=body.name, at=runtime.clock.now(),
        positioning=body.positioning, value=body.value, rules=body.rules)
    await session.commit()
    return CommunityOut.model_validate(community)
