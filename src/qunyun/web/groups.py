"""The group page: 30-day charts, members, recent events and actions, delivery health and what
the platform can do, staff tasks, settings.

Another organization's group is 404, a group outside the principal's scope 403. Settings are
edited at the group layer by those who may configure; every change is audited.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.api.groups import group_timezone
from qunyun.app.bootstrap import Runtime
from qunyun.community.access import CONFIGURE, VIEW, access_group
from qunyun.community.audit import do_record
from qunyun.community.models import Group
from qunyun.core.errors import InvalidInput, NotFound
from qunyun.pipeline.playbook import do_set_group_setting
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.group_data import (
    MEMBERS_PAGE_SIZE,
    group_charts,
    group_header,
    member_page,
    recent_actions,
    recent_events,
)
from qunyun.web.group_platform import capability_table, delivery_health
from qunyun.web.group_settings import (
    SettingsForm,
    file_errors,
    group_layer,
    read_form,
    settings_sections,
)
from qunyun.web.task_data import group_tasks
from qunyun.web.templating import is_htmx
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)


def _page_number(raw: str | None) -> int:
    return max(1, int(raw)) if raw and raw.isdigit() else 1


async def _group_context(session: AsyncSession, runtime: Runtime, viewer: Viewer, group: Group,
                         members_page: int = 1, edited: str | None = None,
                         form: SettingsForm | None = None) -> dict[str, Any]:
    timezone = await group_timezone(session, group)
    header = await group_header(session, group)
    today = viewer.now.astimezone(ZoneInfo(timezone)).date()
    members, total = await member_page(session, group.id, members_page)
    return {
        "header": header, "group": group, "timezone": timezone,
        "charts": await group_charts(session, group.id, today, header.members,
                                     viewer.gettext),
        "members": members, "members_total": total, "members_page": members_page,
        "members_pages": max(1, -(-total // MEMBERS_PAGE_SIZE)),
        "events": await recent_events(session, group_id=group.id),
        "actions": await recent_actions(session, group.id),
        "tasks": await group_tasks(session, group),
        "capabilities": capability_table(runtime, group.platform),
        "health": await delivery_health(session, group.id, viewer.now),
        "sections": await settings_sections(session, runtime.registry, org_id=group.org_id,
                                            group_id=group.id, edited=edited, form=form,
                                            locale=viewer.locale),
        "edited": edited, "saved": None,
    }


@router.get("/groups/{group_id}", response_class=HTMLResponse)
async def group_page(group_id: int, request: Request, viewer: ViewerDep, session: SessionDep,
                     runtime: RuntimeDep) -> HTMLResponse:
    group = await access_group(session, viewer.principal, group_id, VIEW)
    context = await _group_context(session, runtime, viewer, group,
                                   _page_number(request.query_params.get("members_page")))
    context["saved"] = request.query_params.get("saved")
    return render_page(request, viewer, "groups/page.html", context)


@router.get("/groups/{group_id}/members", response_class=HTMLResponse)
async def group_members(group_id: int, request: Request, viewer: ViewerDep,
                        session: SessionDep) -> Response:
    """The member list's pages: a fragment for HTMX, else the group page at that page."""
    page = _page_number(request.query_params.get("page"))
    if not is_htmx(request):
        return RedirectResponse(f"/groups/{group_id}?members_page={page}#members", 303)
    group = await access_group(session, viewer.principal, group_id, VIEW)
    members, total = await member_page(session, group.id, page)
    return render_page(request, viewer, "groups/_members.html", {
        "group": group, "members": members, "members_total": total, "members_page": page,
        "members_pages": max(1, -(-total // MEMBERS_PAGE_SIZE))})


@router.post("/groups/{group_id}/settings/{section}", response_class=HTMLResponse)
async def save_settings(group_id: int, section: str, request: Request, viewer: ViewerDep,
                        session: SessionDep, runtime: RuntimeDep,
                        _csrf: VerifiedCsrf) -> Response:
    """Set the changed values of one section at the group layer (or unset them there)."""
    group = await access_group(session, viewer.principal, group_id, CONFIGURE)
    sections = {s.name: s for s in await settings_sections(
        session, runtime.registry, org_id=group.org_id, group_id=group.id)}
    if section not in sections:
        raise NotFound("no settings section {section}", section=section)
    submitted = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    form = read_form(sections[section], submitted)
    if not form.errors and (form.values or form.unset):
        try:
            await _store(session, runtime, viewer, group, section, form)
        except InvalidInput as exc:  # refused before anything is written
            file_errors(form, section, exc)
    if form.errors:
        context = await _group_context(session, runtime, viewer, group, edited=section,
                                       form=form)
        return render_page(request, viewer, "groups/page.html", context, status_code=422)
    return RedirectResponse(f"/groups/{group.id}?saved={section}#settings-{section}", 303)


async def _store(session: AsyncSession, runtime: Runtime, viewer: Viewer, group: Group,
                 section: str, form: SettingsForm) -> None:
    before = await group_layer(session, group.org_id, group.id, section)
    now = runtime.clock.now()
    after = await do_set_group_setting(session, runtime.registry, org_id=group.org_id,
                                       group_id=group.id, section=section, values=form.values,
                                       at=now, unset=form.unset)
    await do_record(session, principal=viewer.principal, action="settings.set",
                    target_type="group", target_id=group.id,
                    before={"section": section, "values": before},
                    after={"section": section, "values": after}, at=now)
    await session.commit()
