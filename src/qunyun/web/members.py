"""The member page: profile, tags, platform accounts, every membership period per group, and
the timeline of their events. Shown only when one of their groups is visible to the principal,
and only with what happened in visible groups."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import SessionDep
from qunyun.api.persons import tags_of_persons
from qunyun.community.access import VIEW, Principal
from qunyun.community.models import Group, Membership, Person, PlatformAccount
from qunyun.core.errors import Forbidden, NotFound
from qunyun.web.engagement.hub import member_panels
from qunyun.web.group_data import recent_events
from qunyun.web.viewer import ViewerDep, render_page

router = APIRouter(include_in_schema=False)


@dataclass(slots=True)
class GroupHistory:
    """One group of the person, with every period they spent in it (oldest first)."""

    group: Group
    periods: list[Membership] = field(default_factory=list)

    @property
    def current(self) -> Membership | None:
        return next((p for p in self.periods if p.status == "active"), None)


async def access_person(session: AsyncSession, principal: Principal, person_id: int) -> Person:
    person = await session.scalar(select(Person).where(Person.org_id == principal.org_id,
                                                       Person.id == person_id))
    if person is None:
        raise NotFound("no such person: {id}", id=person_id)
    return person


async def visible_history(session: AsyncSession, principal: Principal,
                          person_id: int) -> list[GroupHistory]:
    rows = await session.execute(
        select(Membership, Group).join(Group, Group.id == Membership.group_id)
        .where(Membership.person_id == person_id, principal.group_clause())
        .order_by(Membership.id))
    history: dict[int, GroupHistory] = {}
    for membership, group in rows:
        history.setdefault(group.id, GroupHistory(group)).periods.append(membership)
    return sorted(history.values(), key=lambda h: (h.current is None, h.group.name))


@router.get("/members/{person_id}", response_class=HTMLResponse)
async def member_page(person_id: int, request: Request, viewer: ViewerDep,
                      session: SessionDep) -> HTMLResponse:
    principal = viewer.principal
    principal.require(VIEW)
    person = await access_person(session, principal, person_id)
    history = await visible_history(session, principal, person.id)
    if not history and not principal.scope.whole_org:
        raise Forbidden("this member is in none of your groups")
    accounts = await session.scalars(select(PlatformAccount).where(
        PlatformAccount.org_id == principal.org_id, PlatformAccount.person_id == person.id)
        .order_by(PlatformAccount.id))
    group_ids = None if principal.scope.whole_org else [h.group.id for h in history]
    return render_page(request, viewer, "members/page.html", {
        "person": person, "history": history, "accounts": list(accounts),
        "tags": (await tags_of_persons(session, [person.id])).get(person.id, []),
        "events": await recent_events(session, person_id=person.id, group_ids=group_ids),
        "panels": member_panels(),
    })
