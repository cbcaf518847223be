"""The chat of one playground group: its history, the member picker, and typing as a member.

Pages work without JavaScript (forms post and come back); with HTMX the forms answer fragments
and the conversation arrives live over the stream (`stream.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.app.bootstrap import Runtime
from qunyun.community.access import ACT, VIEW, Principal, access_group
from qunyun.community.audit import do_record
from qunyun.community.models import Group, Membership
from qunyun.community.roles import MEMBERSHIP_ACTIVE
from qunyun.community.settings import GroupScope
from qunyun.core.errors import InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.features.gate.settings import GateSettings
from qunyun.features.stats.models import DailyStats
from qunyun.pipeline.settings_cache import SettingsCache
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.playground import acts
from qunyun.web.playground.feed import deleted_ids, history
from qunyun.web.playground.room import Room, load_room
from qunyun.web.staff_forms import field_messages
from qunyun.web.templating import is_htmx
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)


async def playground_group(session: AsyncSession, principal: Principal, group_id: int,
                           permission: str = VIEW) -> Group:
    """The playground group, if the principal may `permission` it."""
    group = await access_group(session, principal, group_id, permission)
    if group.platform != acts.PLATFORM:
        raise NotFound("no playground group {id}", id=group_id)
    return group


@router.get("/playground/{group_id}", response_class=HTMLResponse)
async def chat_page(request: Request, group_id: int, viewer: ViewerDep, session: SessionDep,
                    runtime: RuntimeDep) -> HTMLResponse:
    group = await playground_group(session, viewer.principal, group_id)
    acts.install(runtime)
    return await _page(request, viewer, session, runtime, group,
                       selected=request.query_params.get("as"))


async def _page(request: Request, viewer: Viewer, session: AsyncSession, runtime: Runtime,
                group: Group, *, selected: str | None = None, text: str = "",
                errors: dict[str, str] | None = None, member_name: str = "",
                member_errors: dict[str, str] | None = None,
                apply_errors: dict[str, str] | None = None,
                status_code: int = 200) -> HTMLResponse:
    items, cursor = await history(session, group)
    room = await load_room(session, group, runtime.clock.now())
    context = {
        "group": group, "chat_items": items, "cursor": cursor, "deleted": deleted_ids(items),
        **_picker(room, selected, runtime.clock.now()),
        "stats": await today_stats(session, group, viewer.today),
        "text": text, "errors": errors or {}, "can_act": viewer.principal.can(ACT),
        "member_name": member_name, "member_errors": member_errors or {},
        "gate_questions": await gate_questions(session, runtime, group),
        "apply_errors": apply_errors or {},
    }
    return render_page(request, viewer, "playground/chat.html", context,
                       status_code=status_code)


def _picker(room: Room, selected: str | None, now: datetime) -> dict[str, Any]:
    chosen = room.find(selected) if selected else None
    if chosen is None and room.members:
        chosen = room.members[0]
    muted = {m.pid: int((m.muted_until - now).total_seconds())
             for m in room.members if m.muted_until}
    return {"room": room, "selected": chosen.pid if chosen else None, "muted": muted}


@router.post("/playground/{group_id}/members", response_class=HTMLResponse)
async def add_member(request: Request, group_id: int, viewer: ViewerDep, session: SessionDep,
                     runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    group = await playground_group(session, viewer.principal, group_id, ACT)
    name = str((await request.form()).get("name") or "")
    await session.commit()  # end the read: the pipeline writes in its own unit of work
    try:
        member = await acts.join(runtime, group, name)
    except InvalidInput as exc:
        errors = field_messages(exc, viewer.locale)
        if is_htmx(request):
            response = render_page(request, viewer, "playground/_member_form.html",
                                   {"group": group, "errors": errors, "name": name},
                                   status_code=422)
            response.headers.update({"HX-Retarget": "#pg-add-member", "HX-Reswap": "outerHTML"})
            return response
        return await _page(request, viewer, session, runtime, group, member_name=name,
                           member_errors=errors, status_code=422)
    await do_record(session, principal=viewer.principal, action="playground.member.add",
                    target_type="group", target_id=group.id, before=None,
                    after={"member": member, "name": name.strip()}, at=runtime.clock.now())
    await session.commit()
    if not is_htmx(request):
        return RedirectResponse(f"/playground/{group.id}?as={member}", status_code=303)
    room = await load_room(session, group, runtime.clock.now())
    return render_page(request, viewer, "playground/_picker.html",
                       {"group": group, **_picker(room, member, runtime.clock.now()),
                        "errors": {}})


@router.post("/playground/{group_id}/messages", response_class=HTMLResponse)
async def post_message(request: Request, group_id: int, viewer: ViewerDep, session: SessionDep,
                       runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    group = await playground_group(session, viewer.principal, group_id, ACT)
    form = await request.form()
    member, text = str(form.get("member") or ""), str(form.get("text") or "")
    try:
        await acts.post(runtime, session, group, member, text,
                        reply_to=str(form.get("reply_to") or ""))
    except InvalidInput as exc:
        errors = field_messages(exc, viewer.locale)
        if is_htmx(request):
            return render_page(request, viewer, "playground/_send_status.html",
                               {"errors": errors}, status_code=422)
        return await _page(request, viewer, session, runtime, group, selected=member,
                           text=text, errors=errors, status_code=422)
    if is_htmx(request):
        return render_page(request, viewer, "playground/_send_status.html", {"errors": {}})
    return RedirectResponse(f"/playground/{group.id}?as={member}", status_code=303)


@router.get("/playground/{group_id}/stats", response_class=HTMLResponse)
async def stats_panel(request: Request, group_id: int, viewer: ViewerDep,
                      session: SessionDep) -> HTMLResponse:
    group = await playground_group(session, viewer.principal, group_id)
    return render_page(request, viewer, "playground/_stats.html",
                       {"group": group, "stats": await today_stats(session, group,
                                                                   viewer.today)})


async def today_stats(session: AsyncSession, group: Group, today: date) -> dict[str, int]:
    """Today's counters of the `stats` feature, and the members in the group now."""
    row = await session.scalar(select(DailyStats).where(DailyStats.group_id == group.id,
                                                        DailyStats.day == today))
    members = await session.scalar(select(func.count()).select_from(Membership).where(
        Membership.group_id == group.id, Membership.status == MEMBERSHIP_ACTIVE))
    counts = {"members": int(members or 0)}
    for name in ("messages", "speakers", "joins", "leaves"):
        counts[name] = int(getattr(row, name)) if row is not None else 0
    return counts


@router.post("/playground/{group_id}/reactions", response_class=HTMLResponse)
async def react(request: Request, group_id: int, viewer: ViewerDep, session: SessionDep,
                runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    """The chosen member likes a message (a `reaction.added` event)."""
    group = await playground_group(session, viewer.principal, group_id, ACT)
    form = await request.form()
    member, message = str(form.get("member") or ""), str(form.get("message_id") or "")
    try:
        await acts.react(runtime, session, group, member, message)
    except InvalidInput as exc:
        return render_page(request, viewer, "playground/_send_status.html",
                           {"errors": field_messages(exc, viewer.locale)}, status_code=422)
    if is_htmx(request):
        return render_page(request, viewer, "playground/_send_status.html", {"errors": {}})
    return RedirectResponse(f"/playground/{group.id}?as={member}", status_code=303)


@router.post("/playground/{group_id}/roles", response_class=HTMLResponse)
async def set_role(request: Request, group_id: int, viewer: ViewerDep, session: SessionDep,
                   runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    """Make the chosen member an admin of the group, or an ordinary member again."""
    group = await playground_group(session, viewer.principal, group_id, ACT)
    form = await request.form()
    member, role = str(form.get("member") or ""), str(form.get("role") or "")
    try:
        name = await acts.set_role(session, group, member, role)
    except InvalidInput as exc:
        return await _page(request, viewer, session, runtime, group, selected=member,
                           errors=field_messages(exc, viewer.locale), status_code=422)
    await do_record(session, principal=viewer.principal, action="playground.member.role",
                    target_type="group", target_id=group.id, before=None,
                    after={"member": member, "name": name, "role": role},
                    at=runtime.clock.now())
    await session.commit()
    return RedirectResponse(f"/playground/{group.id}?as={member}", status_code=303)


async def gate_questions(session: AsyncSession, runtime: Runtime,
                         group: Group) -> list[str] | None:
    """The questionnaire of the group's entry gate (empty if it asks none; None if the gate is
    off: nobody would answer a join request)."""
    cache = SettingsCache(runtime.registry)
    await cache.refresh(session, group.org_id)
    found = cache.for_group(GroupScope(group.org_id, group.community_id, group.playbook_id,
                                       group.id)).features.get("gate")
    return list(found.questions) if isinstance(found, GateSettings) and found.enabled else None


@router.post("/playground/{group_id}/apply", response_class=HTMLResponse)
async def apply_to_join(request: Request, group_id: int, viewer: ViewerDep, session: SessionDep,
                        runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    """A new person asks to join, answering the gate's questionnaire (a join request)."""
    group = await playground_group(session, viewer.principal, group_id, ACT)
    form = await request.form()
    questions = await gate_questions(session, runtime, group)
    answers = {q: str(form.get(f"answer-{i}") or "") for i, q in enumerate(questions or [])}
    name = str(form.get("name") or "")
    await session.commit()  # end the read: the pipeline writes in its own unit of work
    acts.install(runtime)
    try:
        if questions is None:
            raise InvalidInput(N_("the entry gate is off in this group: nobody would answer "
                                  "the request"))
        member = await acts.apply(runtime, group, name, answers,
                                  code=str(form.get("code") or ""),
                                  inviter=str(form.get("inviter") or ""))
    except InvalidInput as exc:
        return await _page(request, viewer, session, runtime, group,
                           apply_errors=field_messages(exc, viewer.locale), status_code=422)
    await do_record(session, principal=viewer.principal, action="playground.member.apply",
                    target_type="group", target_id=group.id, before=None,
                    after={"member": member, "name": name.strip()}, at=runtime.clock.now())
    await session.commit()
    return RedirectResponse(f"/playground/{group.id}", status_code=303)
