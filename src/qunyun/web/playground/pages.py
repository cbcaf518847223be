"""The playground's list: the organization's playground groups, and a form to create one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.community.access import ACT, VIEW, Principal
from qunyun.community.audit import do_record
from qunyun.community.models import Community, Group, Membership
from qunyun.community.roles import MEMBERSHIP_ACTIVE, PURPOSES
from qunyun.community.service import do_create_group
from qunyun.core.errors import ErrorCollector, FieldError, Forbidden, InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.features.stats.models import DailyStats
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.playground.acts import NAME_MAX, PLATFORM, new_group_id
from qunyun.web.staff_forms import field_messages
from qunyun.web.templating import is_htmx
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: int
    name: str
    purpose: str
    store: str | None
    members: int
    messages_today: int


@dataclass(frozen=True, slots=True)
class GroupForm:
    name: str = ""
    purpose: str = "member"
    store: str = ""
    community_id: int | None = None


@router.get("/playground", response_class=HTMLResponse)
async def playground_list(request: Request, viewer: ViewerDep,
                          session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    return await _list_page(request, viewer, session, GroupForm(), {})


@router.post("/playground", response_class=HTMLResponse)
async def create_group(request: Request, viewer: ViewerDep, session: SessionDep,
                       runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    principal.require(ACT)
    form = await _read_form(request)
    try:
        group = await _create(session, principal, form, runtime.clock.now())
    except (InvalidInput, Forbidden, NotFound) as exc:
        await session.rollback()
        return await _list_page(request, viewer, session, form,
                                field_messages(exc, viewer.locale), status_code=exc.status)
    await session.commit()
    url = f"/playground/{group.id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


async def _read_form(request: Request) -> GroupForm:
    data = await request.form()
    community = str(data.get("community") or "")
    return GroupForm(name=str(data.get("name") or "").strip(),
                     purpose=str(data.get("purpose") or ""),
                     store=str(data.get("store") or "").strip(),
                     community_id=int(community) if community.isdigit() else None)


async def _create(session: AsyncSession, principal: Principal, form: GroupForm,
                  now: datetime) -> Group:
    errors = ErrorCollector()
    if not form.name:
        errors.add("name", "a group needs a name")
    elif len(form.name) > NAME_MAX:
        errors.add("name", "must be at most {limit} characters", limit=NAME_MAX)
    if form.purpose not in PURPOSES:
        errors.add("purpose", "choose a type")
    if errors:
        raise InvalidInput("the group cannot be created", errors=errors.errors)
    community_id = form.community_id or await _default_community(session, principal)
    candidate = Group(org_id=principal.org_id, community_id=community_id,
                      store=form.store or None)
    if not principal.scope.covers(candidate):
        field = "store" if principal.scope.stores else "community"
        raise Forbidden("this group would be outside your scope", errors=[
            FieldError(field, N_("choose one you work for"))])
    group = await do_create_group(session, org_id=principal.org_id, platform=PLATFORM,
                                  platform_id=new_group_id(), name=form.name, at=now,
                                  community_id=community_id, purpose=form.purpose,
                                  store=form.store or None)
    await do_record(session, principal=principal, action="playground.group.create",
                    target_type="group", target_id=group.id, before=None,
                    after={"name": group.name, "purpose": group.purpose, "store": group.store,
                           "platform": PLATFORM}, at=now)
    return group


async def _default_community(session: AsyncSession, principal: Principal) -> int | None:
    """The first community the principal works on (of the organization, for HQ)."""
    query = select(Community.id).where(Community.org_id == principal.org_id)
    if principal.scope.communities:
        query = query.where(Community.id.in_(sorted(principal.scope.communities)))
    return await session.scalar(query.order_by(Community.id).limit(1))


async def _list_page(request: Request, viewer: Viewer, session: AsyncSession, form: GroupForm,
                     errors: dict[str, str], status_code: int = 200) -> HTMLResponse:
    principal = viewer.principal
    context = {
        "groups": await visible_groups(session, principal, viewer.today),
        "form": form, "errors": errors, "purposes": PURPOSES,
        "stores": await _stores(session, principal),
        "communities": (await session.execute(
            select(Community.id, Community.name).where(Community.org_id == principal.org_id)
            .order_by(Community.id))).all(),
        "can_act": principal.can(ACT),
    }
    return render_page(request, viewer, "playground/list.html", context,
                       status_code=status_code)


async def visible_groups(session: AsyncSession, principal: Principal,
                         today: date) -> list[GroupRow]:
    """The playground groups the principal may see, newest first, with today's numbers."""
    members = (select(func.count()).select_from(Membership)
               .where(Membership.group_id == Group.id, Membership.status == MEMBERSHIP_ACTIVE)
               .scalar_subquery())
    messages = (select(DailyStats.messages)
                .where(DailyStats.group_id == Group.id, DailyStats.day == today)
                .scalar_subquery())
    rows = await session.execute(
        select(Group.id, Group.name, Group.purpose, Group.store, members, messages)
        .where(principal.group_clause(), Group.platform == PLATFORM,
               Group.status == "active")
        .order_by(Group.id.desc()).limit(LIST_LIMIT))
    return [GroupRow(i, name, purpose, store, count or 0, today_count or 0)
            for i, name, purpose, store, count, today_count in rows]


async def _stores(session: AsyncSession, principal: Principal) -> list[str]:
    rows = await session.scalars(select(Group.store).where(principal.group_clause(),
                                                           Group.store.is_not(None))
                                 .distinct().order_by(Group.store))
    return [s for s in rows if s]

