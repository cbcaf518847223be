"""Leaderboards on the dashboard: a group or a whole community, a period, a measure; the top
places in a table. A staff member sees the groups of their scope, and a community's board only
when the whole community is theirs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import SessionDep
from qunyun.community.access import VIEW, Principal, access_group
from qunyun.community.models import Community, Group
from qunyun.community.settings import (
    COMMUNITY_SECTION,
    CommunitySettings,
    GroupScope,
    load_layers,
    merge,
)
from qunyun.core.clock import local_day
from qunyun.core.errors import Forbidden, InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.features.leaderboard.handlers import METRIC_TITLES, PERIOD_TITLES
from qunyun.features.leaderboard.periods import METRICS, PERIODS, POINTS, WEEK, period_days
from qunyun.features.leaderboard.service import BoardQuery, Place, top
from qunyun.web.viewer import ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Leaderboards")
DESCRIPTION = N_("Top members by points, sign-ins or messages, per group or community: today, "
                 "this week, this month or all time.")
PAGE = "/engagement/leaderboard"
SIZE = 50


@dataclass(frozen=True, slots=True)
class Board:
    """Whose board: `g<id>` for a group, `c<id>` for a whole community."""

    key: str
    name: str
    org_id: int
    community_id: int | None
    group: Group | None = None


async def timezone_of(session: AsyncSession, org_id: int, community_id: int | None,
                      group: Group | None = None) -> str:
    """The time zone whose days the board counts: the group's, or the community's."""
    layers = await load_layers(session, org_id)
    scope = GroupScope(org_id, community_id, group.playbook_id if group else None,
                       group.id if group else 0)
    values = merge(CommunitySettings().model_dump(), layers, scope, COMMUNITY_SECTION).values
    try:
        return CommunitySettings.model_validate(values).timezone
    except ValueError:
        return CommunitySettings().timezone


def allowed_communities(principal: Principal) -> frozenset[int] | None:
    """The communities the principal sees whole; None: all of them."""
    return None if principal.scope.whole_org else principal.scope.communities


async def boards(session: AsyncSession, principal: Principal) -> list[Board]:
    """The boards the principal may see: whole communities first, then groups by name."""
    query = select(Community).where(Community.org_id == principal.org_id)
    allowed = allowed_communities(principal)
    if allowed is not None:
        query = query.where(Community.id.in_(sorted(allowed)))
    found = [Board(f"c{c.id}", c.name, c.org_id, c.id)
             for c in await session.scalars(query.order_by(Community.name))]
    groups = await session.scalars(select(Group).where(principal.group_clause())
                                   .order_by(Group.name, Group.id))
    return found + [Board(f"g{g.id}", g.name, g.org_id, g.community_id, g) for g in groups]


async def access_board(session: AsyncSession, principal: Principal, key: str) -> Board:
    kind, number = key[:1], key[1:]
    if kind not in ("c", "g") or not number.isdigit():
        raise InvalidInput("no such board: {key}", key=key)
    if kind == "g":
        group = await access_group(session, principal, int(number))
        return Board(key, group.name, group.org_id, group.community_id, group)
    community = await session.scalar(select(Community).where(
        Community.id == int(number), Community.org_id == principal.org_id))
    if community is None:
        raise NotFound("no such community: {id}", id=int(number))
    allowed = allowed_communities(principal)
    if allowed is not None and community.id not in allowed:
        raise Forbidden("this community is outside your scope")
    return Board(key, community.name, community.org_id, community.id)


@router.get(PAGE, response_class=HTMLResponse)
async def leaderboard_page(request: Request, viewer: ViewerDep,
                           session: SessionDep) -> HTMLResponse:
    principal = viewer.principal
    principal.require(VIEW)
    params = request.query_params
    period = _choice(params.get("period"), PERIODS, WEEK)
    metric = _choice(params.get("metric"), METRICS, POINTS)
    choices = await boards(session, principal)
    key = params.get("where") or (choices[0].key if choices else "")
    board = await access_board(session, principal, key) if key else None
    places: list[Place] = []
    days, timezone = None, viewer.timezone
    if board is not None and (board.group is not None or board.community_id is not None):
        timezone = await timezone_of(session, board.org_id, board.community_id, board.group)
        query = BoardQuery(metric, timezone, group_id=board.group.id if board.group else None,
                           community_id=board.community_id,
                           days=period_days(period, local_day(viewer.now, timezone)))
        places, days = await top(session, query, SIZE), query.days
    return render_page(request, viewer, "engagement/leaderboard/page.html", {
        "boards": choices, "board": board, "period": period, "metric": metric,
        "periods": [(p, PERIOD_TITLES[p]) for p in PERIODS],
        "metrics": [(m, METRIC_TITLES[m]) for m in METRICS],
        "places": places, "first_day": days[0] if days else None,
        "last_day": days[1] - timedelta(days=1) if days else None, "board_timezone": timezone})


def _choice(value: str | None, allowed: tuple[str, ...], default: str) -> str:
    return value if value in allowed else default
