"""The blacklist page (黑名单): who is barred from every group of the organization, why, until
when and by whom; a form to add someone, buttons to lift or share an entry, and the shared lists
of other organizations this one subscribes to.

Everyone who may view the dashboard sees the list. Changing it needs CONFIGURE and a scope of
the whole organization (an entry bars a person from all of its groups). Every change needs the
CSRF token and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import SessionDep
from qunyun.community import blacklist
from qunyun.community.access import CONFIGURE, VIEW, Principal
from qunyun.core.errors import Forbidden, InvalidInput, QunyunError
from qunyun.core.i18n import N_
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.staff_forms import field_messages, text
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Blacklist")
DESCRIPTION = N_("People barred from every group of the organization, on every platform: why, "
                 "until when and who added them; shared lists of other organizations.")
BASE = "/moderation/blacklist"
PAGE_SIZE = 50
MAX_DAYS = 3650


@dataclass(slots=True)
class AddForm:
    member: str = ""
    reason: str = ""
    days: str = ""
    shared: bool = False
    errors: dict[str, str] = field(default_factory=dict)


def may_change(principal: Principal) -> bool:
    return principal.can(CONFIGURE) and principal.scope.whole_org


def _require_change(principal: Principal) -> None:
    principal.require(CONFIGURE)
    if not principal.scope.whole_org:
        raise Forbidden(N_("the blacklist covers the whole organization: only staff of the "
                           "whole organization may change it"))


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "")
    return max(1, int(raw)) if raw.isdigit() else 1


async def _page(request: Request, viewer: Viewer, session: AsyncSession, *,
                form: AddForm | None = None, subscribe_error: str = "",
                status: int = 200) -> HTMLResponse:
    principal = viewer.principal
    search = request.query_params.get("q", "").strip()
    ended = request.query_params.get("ended") == "1"
    page = _page_number(request)
    found = await blacklist.list_entries(session, org_id=principal.org_id, at=viewer.now,
                                         search=search, include_ended=ended,
                                         limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    query = "&".join(p for p in (f"q={search}" if search else "", "ended=1" if ended else "")
                     if p)
    context: dict[str, Any] = {
        "base": BASE, "found": found, "search": search, "ended": ended, "page": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "pager_base": f"{BASE}?{query}" if query else BASE,
        "form": form or AddForm(), "may_change": may_change(principal),
        "subscriptions": await blacklist.list_subscriptions(session, org_id=principal.org_id,
                                                            at=viewer.now),
        "subscribe_error": subscribe_error, "done": request.query_params.get("done", ""),
    }
    return render_page(request, viewer, "moderation/blacklist.html", context,
                       status_code=status)


@router.get(BASE, response_class=HTMLResponse)
async def blacklist_page(request: Request, viewer: ViewerDep,
                         session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    return await _page(request, viewer, session)


def _days(raw: str, errors: dict[str, str], viewer: Viewer) -> int | None:
    value = raw.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_DAYS:
        errors["days"] = viewer.gettext(N_("a number of days from 1 to {limit}, or empty for "
                                           "no expiry"), limit=MAX_DAYS)
        return None
    return int(value)


async def _read(request: Request) -> AddForm:
    submitted = await request.form()
    return AddForm(text(submitted, "member").strip(), text(submitted, "reason"),
                   text(submitted, "days"), text(submitted, "shared") == "1")


@router.post(BASE + "/add", response_class=HTMLResponse)
async def add_entry(request: Request, viewer: ViewerDep, session: SessionDep,
                    _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    _require_change(principal)
    form = await _read(request)
    days = _days(form.days, form.errors, viewer)
    person = None
    try:
        blacklist.check_entry(reason=form.reason, at=viewer.now, expires_at=None)
    except QunyunError as exc:
        form.errors = {**field_messages(exc, viewer.locale), **form.errors}
    try:
        person = await blacklist.find_person(session, org_id=principal.org_id, ref=form.member)
    except QunyunError as exc:
        form.errors = {**field_messages(exc, viewer.locale), **form.errors}
    if form.errors or person is None:
        return await _page(request, viewer, session, form=form, status=422)
    entry = await blacklist.do_blacklist(
        session, org_id=principal.org_id, person_id=person.id, reason=form.reason,
        added_by=principal, at=viewer.now,
        expires_at=viewer.now + timedelta(days=days) if days else None, shared=form.shared)
    await session.commit()
    return RedirectResponse(f"{BASE}?done=added-{entry.id}", status_code=303)


@router.post(BASE + "/{entry_id}/remove")
async def remove_entry(entry_id: int, viewer: ViewerDep, session: SessionDep,
                       _csrf: VerifiedCsrf) -> Response:
    _require_change(viewer.principal)
    await blacklist.do_remove(session, org_id=viewer.principal.org_id, entry_id=entry_id,
                              removed_by=viewer.principal, at=viewer.now)
    await session.commit()
    return RedirectResponse(f"{BASE}?done=removed-{entry_id}", status_code=303)


@router.post(BASE + "/{entry_id}/share")
async def share_entry(entry_id: int, request: Request, viewer: ViewerDep, session: SessionDep,
                      _csrf: VerifiedCsrf) -> Response:
    _require_change(viewer.principal)
    shared = text(await request.form(), "shared") == "1"
    await blacklist.do_set_shared(session, org_id=viewer.principal.org_id, entry_id=entry_id,
                                  shared=shared, actor=viewer.principal, at=viewer.now)
    await session.commit()
    return RedirectResponse(f"{BASE}?done={'shared' if shared else 'unshared'}-{entry_id}",
                            status_code=303)


@router.post(BASE + "/subscribe", response_class=HTMLResponse)
async def subscribe(request: Request, viewer: ViewerDep, session: SessionDep,
                    _csrf: VerifiedCsrf) -> Response:
    _require_change(viewer.principal)
    slug = text(await request.form(), "source").strip()
    try:
        if not slug:
            raise InvalidInput(N_("name the organization whose shared list to read"))
        await blacklist.do_subscribe(session, org_id=viewer.principal.org_id, source_slug=slug,
                                     principal=viewer.principal, at=viewer.now)
    except QunyunError as exc:
        await session.rollback()
        return await _page(request, viewer, session, subscribe_error=exc.render(viewer.locale),
                           status=exc.status)
    await session.commit()
    return RedirectResponse(f"{BASE}?done=subscribed#shared", status_code=303)


@router.post(BASE + "/subscriptions/{subscription_id}/end")
async def unsubscribe(subscription_id: int, viewer: ViewerDep, session: SessionDep,
                      _csrf: VerifiedCsrf) -> Response:
    _require_change(viewer.principal)
    await blacklist.do_unsubscribe(session, org_id=viewer.principal.org_id,
                                   subscription_id=subscription_id, principal=viewer.principal,
                                   at=viewer.now)
    await session.commit()
    return RedirectResponse(f"{BASE}?done=unsubscribed#shared", status_code=303)
