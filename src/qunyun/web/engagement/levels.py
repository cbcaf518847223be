"""Levels and badges on the dashboard: per community, the ladder with how many members stand
on each level, recent promotions and badges; on the member page, a person's level, progress
and badges. Staff outside the whole organization see and count the members of their groups."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import SessionDep
from qunyun.community.access import VIEW, Principal
from qunyun.community.models import Community, Group
from qunyun.core.clock import local_day
from qunyun.core.errors import Forbidden, NotFound
from qunyun.core.i18n import N_
from qunyun.features.levels.queries import (
    community_settings,
    head_counts,
    recent_badges,
    recent_moves,
    standing,
)
from qunyun.web.engagement.leaderboard import timezone_of
from qunyun.web.members import access_person, visible_history
from qunyun.web.viewer import ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Levels and badges")
DESCRIPTION = N_("The ladder of titles per community, how many members stand on each level, "
                 "recent promotions and badges.")
PAGE = "/engagement/levels"


async def visible_communities(session: AsyncSession, principal: Principal) -> list[Community]:
    """Communities with a group the principal sees (all of the organization's for HQ)."""
    query = select(Community).where(Community.org_id == principal.org_id)
    if not principal.scope.whole_org:
        query = query.where(Community.id.in_(
            select(Group.community_id).where(principal.group_clause())))
    return list(await session.scalars(query.order_by(Community.name, Community.id)))


async def _chosen(session: AsyncSession, principal: Principal, communities: list[Community],
                  wanted: str) -> Community | None:
    """The community asked for (default: the first one); Forbidden for one of the
    organization outside the scope, NotFound for anything else."""
    if not wanted:
        return communities[0] if communities else None
    found = next((c for c in communities if str(c.id) == wanted), None)
    if found is not None:
        return found
    exists = wanted.isdigit() and await session.scalar(select(Community.id).where(
        Community.id == int(wanted), Community.org_id == principal.org_id)) is not None
    if exists:
        raise Forbidden("this community is outside your scope")
    raise NotFound("no such community: {id}", id=wanted)


@router.get(PAGE, response_class=HTMLResponse)
async def levels_page(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    principal = viewer.principal
    principal.require(VIEW)
    communities = await visible_communities(session, principal)
    community = await _chosen(session, principal, communities,
                              request.query_params.get("community", ""))
    context: dict[str, object] = {"communities": communities, "community": community}
    if community is not None:
        visible = principal.group_clause()
        settings = await community_settings(session, principal.org_id, community.id)
        counts = await head_counts(session, community.id, visible)
        context.update(
            settings=settings,
            ladder=[(level, counts.get(index, 0)) for index, level in
                    enumerate(settings.levels)],
            beyond=sum(n for index, n in counts.items() if index >= len(settings.levels)),
            moves=await recent_moves(session, community.id, visible),
            badges=await recent_badges(session, community.id, visible))
    return render_page(request, viewer, "engagement/levels/page.html", context)


@router.get("/members/{person_id}/panels/levels", response_class=HTMLResponse)
async def member_levels_panel(person_id: int, request: Request, viewer: ViewerDep,
                              session: SessionDep) -> HTMLResponse:
    principal = viewer.principal
    principal.require(VIEW)
    person = await access_person(session, principal, person_id)
    history = await visible_history(session, principal, person.id)
    if not history and not principal.scope.whole_org:
        raise Forbidden("this member is in none of your groups")
    community_ids = sorted({h.group.community_id for h in history
                            if h.group.community_id is not None})
    names = {cid: name for cid, name in await session.execute(
        select(Community.id, Community.name).where(Community.id.in_(community_ids)))}
    standings = []
    for community_id in community_ids:
        settings = await community_settings(session, principal.org_id, community_id)
        timezone = await timezone_of(session, principal.org_id, community_id)
        standings.append((names.get(community_id, ""), settings, await standing(
            session, settings=settings, community_id=community_id, person_id=person.id,
            today=local_day(viewer.now, timezone))))
    return render_page(request, viewer, "engagement/levels/_panel.html",
                       {"person": person, "standings": standings})
